/**
 * One writer process of the concurrent-manifest test (test/unit/firmware-build.test.ts): records `count`
 * entries named <writer>-<i> in the manifest at `path`. Each update holds the manifest it read for 20 ms
 * before writing it back, so that an unlocked update would lose entries the other writers made meanwhile.
 * Arguments: path writer count. It says "ready" once loaded and starts at the first line on its stdin, so
 * that the test can start all writers together.
 */
import { once } from 'node:events';
import { updateManifest, type FirmwareImage } from '../../../src/board/firmware.js';

const [path, writer, count] = process.argv.slice(2) as [string, string, string];
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
for (let i = 0; i < Number(count); i++) {
  await updateManifest((m) => {
    m.images[`${writer}-${i}`] = { board: writer } as FirmwareImage;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }, path);
}
