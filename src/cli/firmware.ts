/** `hil firmware build`: builds each board's firmware port and records the images in firmware-images/manifest.json. */
import chalk from 'chalk';
import type { Command } from 'commander';
import { buildFirmwareImage, MANIFEST_PATH } from '../board/firmware.js';
import { listBoards, readBoardFile, resolveBoardPath } from '../board/registry.js';
import { HilError } from '../util/errors.js';
import { action } from './common.js';

export function register(program: Command): void {
  const fw = program.command('firmware').description('firmware images for the boards');
  fw.command('build')
    .description('build the firmware of one board (or of every board), copy the image to firmware-images/ and record its hash, toolchain and flags')
    .option('--board <name>', 'a board name from `hil board list`, or a board file path (default: every board)')
    .action(
      action(async (opts: { board?: string }) => {
        const files = opts.board
          ? [readBoardFile(resolveBoardPath(opts.board))]
          : listBoards().map((b) => {
              if (!b.file) throw new HilError(b.error ?? `${b.path} is unusable`);
              return b.file;
            });
        const failed: string[] = [];
        for (const file of files) {
          try {
            const img = await buildFirmwareImage(file);
            process.stdout.write(
              `${chalk.green('built')} ${file.name.padEnd(14)} ${img.image} ${img.bytes} bytes sha256 ${img.sha256.slice(0, 16)}… build ${img.build_id} (${img.toolchain})\n`,
            );
          } catch (e) {
            if (!(e instanceof HilError)) throw e;
            failed.push(file.name);
            process.stderr.write(`hil: ${e.line()}\n`);
          }
        }
        process.stdout.write(chalk.dim(`manifest: ${MANIFEST_PATH}\n`));
        if (failed.length) throw new HilError(`firmware build failed for: ${failed.join(', ')}`, 'see the messages above');
      }),
    );
}
