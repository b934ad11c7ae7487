/**
 * Jobs of the real sizes (`real-small`, `real`): recorded speech through the quality gates, real-voice babble,
 * and the held-out real-test noise. build.ts runs them like the TTS jobs; see realSources.ts for the split
 * policy and quality.ts for the gates.
 */
import { spawnSync } from 'node:child_process';
import { sha256, sha256File } from '../util/fsx.js';
import { activeRange, concat, normalizePeak, padded, rms, toInt16WithFloor } from './audio.js';
import { decodeNative, soxFloat } from './decode.js';
import type { CorpusSplit, NoiseEntry, SpeechEntry } from './manifest.js';
import { measure, qualityProblem } from './quality.js';
import { realSpeechSources, realTestNoise, type RealSpeaker, type RealSpeechFile } from './realSources.js';
import { rngFor, round, type Rng } from './rng.js';
import type { RealSpec } from './sizes.js';
import { AudioDecodeError, CORPUS_RATE } from './sox.js';

export interface RealJob<M> {
  id: string;
  key: string;
  paths: string[];
  run(): Promise<{ pcm: Int16Array[]; meta: M }>;
  /** Set: a file that fails a gate or cannot be read is reported under `rejected` and left out. */
  userFile?: string;
}

type SpeechMeta = Omit<SpeechEntry, 'sha256'>;
type NoiseMeta = { entry: Omit<NoiseEntry, 'sha256'>; pcmHash: string };
type Key = (what: unknown) => string;

/** Recorded speech shorter than this after trimming (a clipped syllable) is left out; single words last 0.5–1.6 s. */
export const MIN_REAL_SECONDS = 0.5;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const seconds = (pcm: Int16Array) => pcm.length / CORPUS_RATE;
const CLEAN_ROLES: Record<string, CorpusSplit> = { train: 'train', val: 'val', 'real-test': 'real-test' };
const BABBLE_ROLES: Record<string, CorpusSplit> = { 'babble-train': 'train', 'babble-val': 'val', 'babble-real-test': 'real-test' };

export interface RealInputs {
  speech: (RealSpeechFile & { hash: string })[];
  /** Byte-identical repeats dropped (the later path in sorted order). */
  duplicates: number;
}

/** Every speech file of the installed sources, byte-identical repeats removed. */
export function listRealSpeech(): RealInputs {
  const seen = new Set<string>();
  const speech: (RealSpeechFile & { hash: string })[] = [];
  let duplicates = 0;
  for (const s of realSpeechSources()) {
    for (const f of s.files()) {
      const hash = sha256File(f.path);
      if (seen.has(hash)) {
        duplicates++;
        continue;
      }
      seen.add(hash);
      speech.push({ ...f, hash });
    }
  }
  return { speech, duplicates };
}

export function realToolVersions(): Record<string, string> {
  const q = spawnSync('dpkg-query', ['-W', '-f=${Package}=${Version}\\n', 'ffmpeg'], { encoding: 'utf8', timeout: 20_000 });
  const v = /^ffmpeg=(.+)$/m.exec(q.stdout ?? '')?.[1];
  if (v) return { ffmpeg: v };
  const r = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8', timeout: 20_000 });
  return { ffmpeg: r.status === 0 ? (r.stdout.split('\n')[0] ?? 'unknown') : 'absent' };
}

function bySpeaker<T extends RealSpeechFile>(files: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const f of files) {
    if (!m.has(f.speaker.id)) m.set(f.speaker.id, []);
    m.get(f.speaker.id)!.push(f);
  }
  return new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** 16 kHz float of an installed file (sox `rate -v`), with its native decode for the clipping gate. */
async function decode16k(path: string): Promise<{ native: Float32Array; audio: Float32Array; rate: number }> {
  const n = await decodeNative(path);
  if (n.samples.length === 0) throw new AudioDecodeError(path, 'holds no samples');
  return { native: n.samples, audio: await soxFloat(n.samples, n.sampleRate, [], CORPUS_RATE, path), rate: n.sampleRate };
}

export function realSpeechJobs(seed: number, spec: RealSpec, inputs: RealInputs, key: Key): RealJob<SpeechMeta>[] {
  const jobs: RealJob<SpeechMeta>[] = [];
  const counters = new Map<CorpusSplit, number>();
  for (const [speakerId, files] of bySpeaker(inputs.speech.filter((f) => f.speaker.role in CLEAN_ROLES))) {
    const split = CLEAN_ROLES[files[0].speaker.role];
    const limit = spec.perSpeaker[split as keyof RealSpec['perSpeaker']];
    const chosen = rngFor(seed, 'real-pick', speakerId)
      .shuffle(files)
      .slice(0, limit ?? files.length);
    for (const f of chosen) {
      const i = counters.get(split) ?? 0;
      counters.set(split, i + 1);
      const id = `rsp-${split}-${pad(i, 5)}`;
      const path = `speech/${split}/${speakerId}/${id}.wav`;
      jobs.push({
        id,
        key: key({ kind: 'real-speech', seed, id, file: f.path, hash: f.hash, speaker: f.speaker }),
        paths: [path],
        userFile: f.path,
        run: async () => {
          const d = await decode16k(f.path);
          const a = activeRange(d.audio, -50);
          if (!a) throw new AudioDecodeError(f.path, 'is digital silence throughout');
          const start = Math.max(0, a.start - Math.round(0.1 * CORPUS_RATE));
          const end = Math.min(d.audio.length, a.end + Math.round(0.15 * CORPUS_RATE));
          const trimmed = normalizePeak(padded(d.audio, start, end, 0, 0));
          if (trimmed.length < MIN_REAL_SECONDS * CORPUS_RATE) throw new AudioDecodeError(f.path, `too short: ${(trimmed.length / CORPUS_RATE).toFixed(2)} s of speech (< ${MIN_REAL_SECONDS} s)`);
          if (d.rate < CORPUS_RATE) throw new AudioDecodeError(f.path, `band-limited: sampled at ${d.rate} Hz`);
          // Band shares on the audio as written (trimmed), clipping at the native rate, pauses on the whole file.
          const q = { ...measure(d.native, trimmed), dynamicRangeDb: measure(d.native, d.audio).dynamicRangeDb };
          const problem = qualityProblem(q);
          if (problem) throw new AudioDecodeError(f.path, problem);
          const pcm = toInt16WithFloor(trimmed, rngFor(seed, 'floor', id));
          const s: RealSpeaker = f.speaker;
          const meta: SpeechMeta = {
            id,
            split,
            path,
            duration: seconds(pcm),
            engine: 'recorded',
            voice: speakerId,
            speaker: speakerId,
            text: null,
            rate: 1,
            pitch: 0,
            warp: 1,
            source: f.path,
            package: s.package,
            language: s.language,
            licence: s.licence,
            sourceRate: d.rate,
            sex: s.sex,
            sexFrom: s.sexFrom,
            quality: q,
          };
          return { pcm: [pcm], meta };
        },
      });
    }
  }
  return jobs;
}

function pcmHash(audio: Float32Array | Float64Array): string {
  return sha256(new Uint8Array(Float32Array.from(audio).buffer));
}

/** One talker's stream: random files of the speaker, trimmed, with 0.1–0.4 s pauses, from a random start. */
async function talkerTrack(files: RealSpeechFile[], length: number, rng: Rng): Promise<Float64Array> {
  const parts: Float64Array[] = [];
  let total = 0;
  const start = Math.floor(rng.uniform(0, 1) * CORPUS_RATE);
  let tries = 0;
  while (total < start + length) {
    if (++tries > 200) throw new Error(`babble talker ${files[0].speaker.id}: no audible file`);
    const { audio } = await decode16k(rng.pick(files).path);
    const a = activeRange(audio, -50);
    if (!a) continue;
    const x = normalizePeak(audio.subarray(a.start, a.end));
    const pause = new Float64Array(Math.floor(rng.uniform(0.1, 0.4) * CORPUS_RATE));
    parts.push(x, pause);
    total += x.length + pause.length;
  }
  return concat(parts).subarray(start, start + length);
}

export function realBabbleJobs(seed: number, spec: RealSpec, inputs: RealInputs, key: Key): RealJob<NoiseMeta>[] {
  const jobs: RealJob<NoiseMeta>[] = [];
  const pools = new Map<CorpusSplit, (RealSpeechFile & { hash: string })[][]>();
  for (const [, files] of bySpeaker(inputs.speech.filter((f) => f.speaker.role in BABBLE_ROLES))) {
    const split = BABBLE_ROLES[files[0].speaker.role];
    pools.set(split, [...(pools.get(split) ?? []), files]);
  }
  for (const [split, talkers] of pools) {
    const count = spec.babble.files[split as keyof RealSpec['babble']['files']] ?? 0;
    for (let k = 0; k < count; k++) {
      const id = `rbabble-${split}-${pad(k, 3)}`;
      const rng = rngFor(seed, 'real-babble', id);
      const deck = rng.shuffle(talkers);
      const n = rng.int(4, 7);
      const chosen = Array.from({ length: n }, (_, i) => ({ files: deck[i % deck.length], gainDb: round(rng.uniform(-3, 3), 2) }));
      const path = `noise/${split}/babble/${id}.wav`;
      const pkg = chosen[0].files[0].speaker.package;
      jobs.push({
        id,
        key: key({ kind: 'real-babble', seed, id, talkers: chosen.map((c) => [c.files[0].speaker.id, c.gainDb, c.files.map((f) => f.hash)]), seconds: spec.babble.seconds }),
        paths: [path],
        run: async () => {
          const length = Math.round(spec.babble.seconds * CORPUS_RATE);
          const sum = new Float64Array(length);
          for (let t = 0; t < chosen.length; t++) {
            const track = await talkerTrack(chosen[t].files, length, rngFor(seed, 'real-babble-text', id, t));
            const level = rms(track);
            if (level === 0) continue;
            const g = 10 ** (chosen[t].gainDb / 20) / level;
            for (let i = 0; i < length; i++) sum[i] += track[i] * g;
          }
          const audio = normalizePeak(sum);
          const pcm = toInt16WithFloor(audio, rngFor(seed, 'floor', id));
          const talkerIds = chosen.map((c) => c.files[0].speaker.id);
          const entry = { id, split, path, duration: seconds(pcm), category: 'babble', source: { package: pkg, file: null, talkers: talkerIds }, licence: chosen[0].files[0].speaker.licence };
          return { pcm: [pcm], meta: { entry, pcmHash: pcmHash(audio) } };
        },
      });
    }
  }
  return jobs;
}

/** Real-test noise: music on hold and Tux Paint effects, an excerpt of at most `maxSeconds` each. */
export function realTestNoiseJobs(seed: number, spec: RealSpec, key: Key): RealJob<NoiseMeta>[] {
  const seen = new Set<string>();
  const files = realTestNoise().flatMap((f) => {
    const hash = sha256File(f.path);
    if (seen.has(hash)) return [];
    seen.add(hash);
    return [{ ...f, hash }];
  });
  // Dealt round the categories (music, appliance, animals, …), each shuffled, so a small pick hears them all.
  const rng = rngFor(seed, 'real-test-noise');
  const decks = [...new Set(files.map((f) => f.category))].sort().map((c) => rng.shuffle(files.filter((f) => f.category === c)));
  const dealt: typeof files = [];
  for (let i = 0; dealt.length < files.length; i++) for (const d of decks) if (i < d.length) dealt.push(d[i]);
  const chosen = dealt.slice(0, spec.testNoise.files ?? files.length);
  chosen.sort((a, b) => (a.path < b.path ? -1 : 1));
  return chosen.map((f, k) => {
    const id = `rnoise-${f.category}-${pad(k, 3)}`;
    const path = `noise/real-test/${f.category}/${id}.wav`;
    return {
      id,
      key: key({ kind: 'real-test-noise', seed, id, file: f.path, hash: f.hash, maxSeconds: spec.testNoise.maxSeconds }),
      paths: [path],
      userFile: f.path,
      run: async () => {
        const d = await decode16k(f.path);
        const a = activeRange(d.audio, -60);
        if (!a || a.end - a.start < 0.5 * CORPUS_RATE) throw new AudioDecodeError(f.path, 'shorter than 0.5 s of sound');
        const max = Math.round(spec.testNoise.maxSeconds * CORPUS_RATE);
        const len = Math.min(max, a.end - a.start);
        const off = a.start + rngFor(seed, 'real-test-noise-offset', id).int(0, a.end - a.start - len);
        const audio = normalizePeak(d.audio.subarray(off, off + len));
        const pcm = toInt16WithFloor(audio, rngFor(seed, 'floor', id));
        const entry = {
          id,
          split: 'real-test' as const,
          path,
          duration: seconds(pcm),
          category: f.category,
          source: { package: f.package, file: f.path },
          licence: f.licence,
          ...(d.rate < CORPUS_RATE ? { bandLimitedHz: Math.floor(d.rate / 2) } : {}),
        };
        return { pcm: [pcm], meta: { entry, pcmHash: pcmHash(audio) } };
      },
    };
  });
}

/** The manifest's `sources`: per package, its speakers, rates, and minutes and files kept per split. */
export function sourcesSummary(speech: SpeechEntry[], noise: NoiseEntry[], inputs: RealInputs): NonNullable<import('./manifest.js').CorpusManifest['sources']> {
  type Row = NonNullable<import('./manifest.js').CorpusManifest['sources']>[number];
  const rows = new Map<string, Row>();
  const row = (pkg: string, licence: string, kind: Row['kind']) => {
    const k = `${kind}\u0000${pkg}`;
    if (!rows.has(k)) rows.set(k, { package: pkg, licence, kind, speakers: [], sampleRates: [], minutes: {}, files: {} });
    return rows.get(k)!;
  };
  const speakerInfo = new Map(inputs.speech.map((f) => [f.speaker.id, f.speaker]));
  for (const e of speech.filter((x) => x.engine === 'recorded')) {
    const r = row(e.package!, e.licence!, 'speech');
    const s = speakerInfo.get(e.speaker)!;
    if (!r.speakers.some((x) => x.id === e.speaker && x.language === e.language)) {
      r.speakers.push({ id: e.speaker, language: e.language!, sex: s.sex, sexFrom: s.sexFrom, ...(s.credit ? { credit: s.credit } : {}), split: e.split });
    }
    if (!r.sampleRates.includes(e.sourceRate!)) r.sampleRates.push(e.sourceRate!);
    r.minutes[e.split] = round((r.minutes[e.split] ?? 0) + e.duration / 60, 2);
    r.files[e.split] = (r.files[e.split] ?? 0) + 1;
  }
  for (const e of noise.filter((x) => x.id.startsWith('rbabble-') || x.id.startsWith('rnoise-'))) {
    const babble = e.id.startsWith('rbabble-');
    const r = row(e.source.package, e.licence, babble ? 'babble' : 'noise');
    for (const t of e.source.talkers ?? []) {
      const s = speakerInfo.get(t)!;
      if (!r.speakers.some((x) => x.id === t)) r.speakers.push({ id: t, language: s.language, sex: s.sex, sexFrom: s.sexFrom, ...(s.credit ? { credit: s.credit } : {}), split: e.split });
    }
    r.minutes[e.split] = round((r.minutes[e.split] ?? 0) + e.duration / 60, 2);
    r.files[e.split] = (r.files[e.split] ?? 0) + 1;
  }
  for (const r of rows.values()) {
    r.sampleRates.sort((a, b) => a - b);
    r.speakers.sort((a, b) => (a.id + a.language < b.id + b.language ? -1 : 1));
  }
  return [...rows.values()].sort((a, b) => (a.kind + a.package < b.kind + b.package ? -1 : 1));
}
