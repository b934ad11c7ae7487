/**
 * The Helium (MVE) kernels on the emulated Cortex-M55, through semihosting images (firmware/bench/):
 * every MVE FC kernel against the scalar one on random and extreme layers, and the shared engine vectors
 * (test/vectors/engine/) through the whole engine with the MVE kernels and again with the scalar ones.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBenchImages, runBenchImage } from '../support/cs300bench.js';
import { findOnPath } from '../../src/board/emulator.js';

const skip = (findOnPath('qemu-system-arm') === null || findOnPath('arm-none-eabi-gcc') === null) && 'needs qemu-system-arm and arm-none-eabi-gcc (bash scripts/setup.sh)';

before(async () => {
  if (!skip) await buildBenchImages();
});

test('MVE FC kernels are bit-exact with the scalar ones (dense, every block shape 1..16 x 1..16, the fast 8x8/4x4/1x16/16x1 paths, requantisation ties and extremes)', { skip }, async (t) => {
  const { code, output } = await runBenchImage('selftest');
  t.diagnostic(output.trim());
  assert.match(output, /kernels self-test \(mve\): (\d+) cases, 0 failures/);
  assert.ok(Number(/(\d+) cases/.exec(output)![1]) > 2500);
  assert.equal(code, 0);
});

for (const image of ['engineMve', 'engineScalar'] as const) {
  test(`engine vectors on the M55 with the ${image === 'engineMve' ? 'MVE' : 'scalar'} kernels: outputs and counters bit-exact`, { skip }, async (t) => {
    const { code, output } = await runBenchImage(image);
    t.diagnostic(output.trim());
    assert.match(output, image === 'engineMve' ? /MVE kernels/ : /scalar kernels/);
    const ok = output.match(/^ok \S+: \d+ frames bit-exact/gm) ?? [];
    assert.ok(ok.length >= 8, `${ok.length} vectors passed`);
    assert.match(output, /(\d+) vectors, 0 failures/);
    assert.equal(code, 0);
  });
}
