/**
 * Consistent Overhead Byte Stuffing (docs/protocol.md §2): removes every 0x00 from a frame so that 0x00 can
 * delimit frames. The canonical form: a 254-byte run at the very end is not followed by an empty block.
 */

/** Worst-case encoded size of n bytes (no delimiters). */
export function cobsMaxEncoded(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncoded(data.length));
  let codeAt = 0;
  let n = 1;
  let code = 1;
  let endedFull = false;
  for (const b of data) {
    endedFull = false;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = n++;
      code = 1;
      continue;
    }
    out[n++] = b;
    if (++code === 0xff) {
      out[codeAt] = code;
      codeAt = n++;
      code = 1;
      endedFull = true;
    }
  }
  if (endedFull) return out.subarray(0, n - 1);
  out[codeAt] = code;
  return out.subarray(0, n);
}

/** Decodes one chunk (the bytes between two delimiters); null when it is not valid COBS. */
export function cobsDecode(chunk: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(chunk.length);
  let i = 0;
  let n = 0;
  while (i < chunk.length) {
    const code = chunk[i++]!;
    if (code === 0 || code - 1 > chunk.length - i) return null;
    out.set(chunk.subarray(i, i + code - 1), n);
    n += code - 1;
    i += code - 1;
    if (code !== 0xff && i < chunk.length) out[n++] = 0;
  }
  return out.subarray(0, n);
}
