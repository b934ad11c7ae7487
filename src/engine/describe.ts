/** A blob as a human reads it: the layer table `hil model info` prints. */
import { LUT_KINDS } from '../spec/modelFormat.js';
import type { ModelBlob } from './blob.js';

/** The layer table of `hil model info`. */
export function describeBlob(b: ModelBlob): string {
  const lines: string[] = [];
  const id = b.modelId.toString(16).padStart(8, '0');
  lines.push(`blob: ${b.totalBytes} bytes, crc32 ${b.crc.toString(16).padStart(8, '0')}, model id ${id}`);
  lines.push(`stream: n_fft ${b.nFft}, hop ${b.hop}, ${b.sampleRate} Hz, ${b.nBins} bins; arena ${b.arena.bytes} bytes; ${b.tensors.length} tensors, ${b.ops.length} ops`);
  const rows: string[][] = [['#', 'op', 'in', 'out', 'shape', 'encoding', 'nnz', 'density', 'weight bytes', 'MACs']];
  const len = (t: number) => `t${t}[${b.tensors[t].length}]${b.tensors[t].dtype === 'int16' ? 'i16' : ''}`;
  let macs = 0, wbytes = 0;
  for (const op of b.ops) {
    macs += op.counters.macs;
    wbytes += op.counters.weightBytes;
    if (op.op === 'FC') {
      const w = op.weights;
      const dense = op.inFeatures * op.outFeatures;
      const stored = w.encoding === 'block' ? op.nnz * w.br * w.bc : op.nnz;
      rows.push([
        String(op.index), 'FC', len(op.input), len(op.output), `${op.outFeatures}x${op.inFeatures}`,
        w.encoding === 'block' ? `block ${w.br}x${w.bc}` : w.encoding, w.encoding === 'block' ? `${op.nnz} blocks` : String(op.nnz),
        `${((100 * stored) / dense).toFixed(1)}%`, String(op.counters.weightBytes), String(op.counters.macs),
      ]);
    } else if (op.op === 'FC16') {
      rows.push([String(op.index), 'FC16', len(op.input), len(op.output), `${op.outFeatures}x${op.inFeatures}`, 'dense', String(op.counters.macs), '100.0%', String(op.counters.weightBytes), String(op.counters.macs)]);
    } else if (op.op === 'LUT' || op.op === 'LUT16') {
      rows.push([String(op.index), `${op.op} ${LUT_KINDS[op.kind]}`, len(op.input), len(op.output), '', '', '', '', '0', '0']);
    } else if (op.op === 'QUANTIZE') {
      rows.push([String(op.index), 'QUANTIZE', len(op.input), len(op.output), '', '', '', '', '0', '0']);
    } else {
      rows.push([String(op.index), op.op, `${len(op.in1)} ${len(op.in2)}`, len(op.output), '', '', '', '', '0', String(op.counters.macs)]);
    }
  }
  rows.push(['', 'total', '', '', '', '', '', '', String(wbytes), String(macs)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c >= 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  const states = b.tensors.filter((t) => t.isState).map((t) => `t${t.id} ← t${t.next}`);
  if (states.length) lines.push(`state: ${states.join(', ')}`);
  return lines.join('\n');
}
