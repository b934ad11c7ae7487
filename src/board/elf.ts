/**
 * Section sizes of a 32-bit little-endian ELF image (the Corstone-300 firmware), read directly so that the
 * memory figures a device reports can be checked against what the linker actually placed, without
 * depending on binutils being installed.
 */
import { readFileSync } from 'node:fs';
import { HilError } from '../util/errors.js';

export interface ElfSection {
  name: string;
  /** SHT_* type: 1 PROGBITS, 8 NOBITS (.bss-like: takes memory, no file bytes). */
  type: number;
  flags: number;
  addr: number;
  size: number;
}

const SHF_ALLOC = 0x2;

interface ElfFile {
  sections: ElfSection[];
  /** PT_LOAD program headers: where the loader copies file bytes (paddr, filesz) and how much memory they span. */
  loads: { paddr: number; vaddr: number; filesz: number; memsz: number }[];
}

function readElf(path: string): ElfFile {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw new HilError(`cannot read ELF image ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (b.length < 52 || b.readUInt32BE(0) !== 0x7f454c46) throw new HilError(`${path} is not an ELF file`);
  if (b[4] !== 1 || b[5] !== 1) throw new HilError(`${path} is not a 32-bit little-endian ELF file`);
  const phoff = b.readUInt32LE(28);
  const shoff = b.readUInt32LE(32);
  const phentsize = b.readUInt16LE(42);
  const phnum = b.readUInt16LE(44);
  const shentsize = b.readUInt16LE(46);
  const shnum = b.readUInt16LE(48);
  const shstrndx = b.readUInt16LE(50);
  if (shoff === 0 || shentsize < 40 || shoff + shnum * shentsize > b.length || shstrndx >= shnum) {
    throw new HilError(`${path}: no readable section header table`);
  }
  if (phentsize < 32 || phoff + phnum * phentsize > b.length) throw new HilError(`${path}: no readable program header table`);
  const header = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      nameOff: b.readUInt32LE(o),
      type: b.readUInt32LE(o + 4),
      flags: b.readUInt32LE(o + 8),
      addr: b.readUInt32LE(o + 12),
      offset: b.readUInt32LE(o + 16),
      size: b.readUInt32LE(o + 20),
    };
  };
  const strtab = header(shstrndx);
  const name = (off: number) => {
    const start = strtab.offset + off;
    const end = b.indexOf(0, start);
    return b.toString('latin1', start, end < 0 ? b.length : end);
  };
  const sections: ElfSection[] = [];
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    sections.push({ name: name(h.nameOff), type: h.type, flags: h.flags, addr: h.addr, size: h.size });
  }
  const loads: ElfFile['loads'] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (b.readUInt32LE(o) !== 1) continue; // PT_LOAD
    loads.push({ vaddr: b.readUInt32LE(o + 8), paddr: b.readUInt32LE(o + 12), filesz: b.readUInt32LE(o + 16), memsz: b.readUInt32LE(o + 20) });
  }
  return { sections, loads };
}

export function readElfSections(path: string): ElfSection[] {
  return readElf(path).sections;
}

/** The memory figures of docs/protocol.md §6 as the Corstone-300 linker script (corstone-300.ld) lays them out. */
export interface ImageMemory {
  /** From the first to the last byte the loader writes into the image region (ITCM): code, read-only data
   * and the .data load image, as the firmware's __image_start/__image_end. */
  imageFlashBytes: number;
  /** .data + .bss. */
  staticSramBytes: number;
  stackSizeBytes: number;
  arenaCapacityBytes: number;
}

/** `imageRegion`: [base, end) of the memory the image is loaded into (the Corstone-300's ITCM). */
export function imageMemory(path: string, imageRegion: { base: number; bytes: number }): ImageMemory {
  const elf = readElf(path);
  const sections = elf.sections.filter((s) => s.flags & SHF_ALLOC);
  const size = (n: string) => sections.find((s) => s.name === n)?.size ?? 0;
  const need = ['.vectors', '.text', '.data', '.bss', '.stack', '.arena'];
  const missing = need.filter((n) => !sections.some((s) => s.name === n));
  if (missing.length) throw new HilError(`${path}: no ${missing.join(', ')} section: not a Corstone-300 hil image`);
  const end = imageRegion.base + imageRegion.bytes;
  const inImage = elf.loads.filter((l) => l.filesz > 0 && l.paddr >= imageRegion.base && l.paddr < end);
  if (!inImage.length) throw new HilError(`${path}: nothing is loaded into [0x${imageRegion.base.toString(16)}, 0x${end.toString(16)})`);
  const first = Math.min(...inImage.map((l) => l.paddr));
  const last = Math.max(...inImage.map((l) => l.paddr + l.filesz));
  return {
    imageFlashBytes: last - first,
    staticSramBytes: size('.data') + size('.bss'),
    stackSizeBytes: size('.stack'),
    arenaCapacityBytes: size('.arena'),
  };
}
