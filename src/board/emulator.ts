/**
 * An emulator process (QEMU, an Arm FVP): the process driver of src/board/process.ts, under the names
 * the emulator backends and their tests use.
 */
export { findOnPath, ProcessDriver as EmulatorProcess, runToExit, type ProcessCommand as EmulatorCommand } from './process.js';
