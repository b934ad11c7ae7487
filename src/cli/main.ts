#!/usr/bin/env node
/** The `hil` command line. Each stage registers its own commands; this file only assembles them. */
import { Command } from 'commander';
import { HIL_VERSION } from '../util/version.js';

const program = new Command();
program
  .name('hil')
  .description('Hardware-in-the-loop benchmarks for compressed speech-enhancement models on microNPUs')
  .version(HIL_VERSION)
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(`hil: ${str.replace(/^error: /, '')}`) })
  .exitOverride((err) => {
    // Usage errors (unknown option, missing argument) are user errors: exit code 2.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

// Stage command modules: each exports register(program).
const modules = [
  await import('./board.js'),
  await import('./compress.js'),
  await import('./data.js'),
  await import('./doctor.js'),
  await import('./farm.js'),
  await import('./firmware.js'),
  await import('./model.js'),
  await import('./report.js'),
  await import('./run.js'),
  await import('./score.js'),
  await import('./sweep.js'),
  await import('./train.js'),
  await import('./worker.js'),
];
for (const m of modules) m.register(program);

await program.parseAsync(process.argv);
