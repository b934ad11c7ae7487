/**
 * Real human speech and real noise from Debian packages (the `speech-data` group of scripts/deps.json), and
 * the split each speaker and recording belongs to. Facts from each package's /usr/share/doc/<pkg>/copyright
 * and upstream credits; a sex not named there was guessed from the median F0 and is marked `guessed`.
 *
 * Split policy (docs/corpus.md, "Real speech"): whole packages are held out for `real-test` (Tux Paint's
 * spoken stamp descriptions, Asterisk's music on hold, Tux Paint's sound effects), so no speaker, recording
 * or package of real-test is heard in train or val. Asterisk, Fillets-NG and KTuberling give train and val,
 * split by speaker. Some speakers of each family talk only in babble noise, never as clean speech.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HilError } from '../util/errors.js';

/** What a speaker is used for. */
export type RealRole = 'train' | 'val' | 'real-test' | 'babble-train' | 'babble-val' | 'babble-real-test';

export interface RealSpeaker {
  /** Identity across the corpus (never in two splits). */
  id: string;
  package: string;
  language: string;
  licence: string;
  sex: 'f' | 'm' | 'mixed' | 'unknown';
  /** Where the sex comes from: the credits, or a guess from F0. */
  sexFrom: 'credits' | 'guessed' | 'unknown';
  /** Credited name, when there is one. */
  credit?: string;
  role: RealRole;
}

export interface RealSpeechFile {
  speaker: RealSpeaker;
  /** Installed path. */
  path: string;
}

export interface RealSpeechSource {
  package: string;
  /** Where its files are installed (a missing root means the package is missing). */
  root: string;
  licence: string;
  /** Every file with its speaker, or none when the file is not clean speech of a known speaker. */
  files(): RealSpeechFile[];
}

function walk(dir: string, re: RegExp): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...walk(p, re));
    else if (re.test(d.name)) out.push(p);
  }
  return out;
}

// --- Asterisk core sounds, G.722 (16 kHz): four professional IVR voices. en and es_MX are one person.
const ASTERISK_ROOT = '/usr/share/asterisk/sounds';
const ASTERISK: Record<string, Omit<RealSpeaker, 'package'> & { package: string }> = {
  en_US_f_Allison: { id: 'asterisk-allison', package: 'asterisk-core-sounds-en-g722', language: 'en-US', licence: 'CC-BY-SA-3.0', sex: 'f', sexFrom: 'credits', credit: 'Allison Smith', role: 'train' },
  es_MX_f_Allison: { id: 'asterisk-allison', package: 'asterisk-core-sounds-es-g722', language: 'es-MX', licence: 'CC-BY-SA-3.0', sex: 'f', sexFrom: 'credits', credit: 'Allison Smith', role: 'train' },
  fr_CA_f_June: { id: 'asterisk-june', package: 'asterisk-core-sounds-fr-g722', language: 'fr-CA', licence: 'CC-BY-SA-3.0', sex: 'f', sexFrom: 'credits', credit: 'June Wallack', role: 'val' },
  it_IT_m_Carlo: { id: 'asterisk-carlo', package: 'asterisk-core-sounds-it-g722', language: 'it-IT', licence: 'CC-BY-3.0', sex: 'm', sexFrom: 'credits', credit: 'Carlo Flora', role: 'train' },
  ru_RU_f_IvrvoiceRU: { id: 'asterisk-ivrvoice-ru', package: 'asterisk-core-sounds-ru-g722', language: 'ru-RU', licence: 'CC-BY-3.0', sex: 'f', sexFrom: 'credits', credit: 'Maxim Topal / ivrvoice.ru (folder name says female)', role: 'train' },
};

function asteriskSources(): RealSpeechSource[] {
  return Object.entries(ASTERISK).map(([folder, sp]) => ({
    package: sp.package,
    root: join(ASTERISK_ROOT, folder),
    licence: sp.licence,
    // silence/*.g722 are pauses; beeps and tones are signals, not speech.
    files: () =>
      walk(join(ASTERISK_ROOT, folder), /\.g722$/)
        .filter((p) => !/\/silence\/|\/(ascending|descending)-2tone\.g722$|\/beep(err)?\.g722$/.test(p))
        .map((path) => ({ speaker: sp, path })),
  }));
}

// --- Fillets-NG, Czech dialogue (22.05/44.1 kHz Vorbis): files are <level>-<character>-<line>.ogg.
const FILLETS_ROOT = '/usr/share/games/fillets-ng/sound';
const FILLETS_MAIN: Record<string, Pick<RealSpeaker, 'sex' | 'sexFrom' | 'role'>> = {
  m: { sex: 'f', sexFrom: 'guessed', role: 'train' }, // the small fish, F0 ≈ 290 Hz
  v: { sex: 'm', sexFrom: 'guessed', role: 'train' }, // the big fish, F0 ≈ 140 Hz
};

function filletsSource(): RealSpeechSource {
  const base = { package: 'fillets-ng-data-cs', language: 'cs', licence: 'GPL-2' };
  return {
    ...base,
    root: FILLETS_ROOT,
    files: () =>
      walk(FILLETS_ROOT, /\.ogg$/)
        .filter((p) => /\/cs\/[^/]+$/.test(p))
        .flatMap((path) => {
          const ch = /^[^-]+-([a-z0-9]+)-/.exec(path.slice(path.lastIndexOf('/') + 1))?.[1];
          if (!ch || ch === 'x') return []; // x: sound effects; unparsed names: unknown speaker
          const main = FILLETS_MAIN[ch];
          // Minor characters (≈ 15, a few lines each; the actors are not credited) talk only in train babble.
          const speaker: RealSpeaker = main
            ? { id: `fillets-${ch}`, ...base, ...main }
            : { id: `fillets-${ch}`, ...base, sex: 'unknown', sexFrom: 'unknown', role: 'babble-train' };
          return [{ speaker, path }];
        }),
  };
}

// --- KTuberling (single words, mostly 44.1 kHz Vorbis; nn is Opus): one folder per language, no credits.
const KTUBERLING_ROOT = '/usr/share/ktuberling/sounds';
const KTUBERLING_ROLE: Record<string, RealRole> = { el: 'val', lt: 'val', sl: 'babble-val', gl: 'babble-val', de: 'babble-val', nn: 'babble-val' };
/** Folders whose F0 suggests several voices (both sexes) — still one group, never split. */
const KTUBERLING_MIXED = new Set(['ca', 'da', 'ru']);

function ktuberlingSource(): RealSpeechSource {
  return {
    package: 'ktuberling-data',
    root: KTUBERLING_ROOT,
    licence: 'GPL-2+',
    files: () =>
      walk(KTUBERLING_ROOT, /\.(ogg|wav|opus|flac)$/).flatMap((path) => {
        const folder = relative(KTUBERLING_ROOT, path).split('/')[0];
        if (folder === relative(KTUBERLING_ROOT, path)) return [];
        const lang = folder.replace(/@.*$/, ''); // sr, sr@latin, sr@ijekavian…: one speaker
        const speaker: RealSpeaker = {
          id: `ktuberling-${lang}`,
          package: 'ktuberling-data',
          language: lang,
          licence: 'GPL-2+',
          sex: KTUBERLING_MIXED.has(lang) ? 'mixed' : 'unknown',
          sexFrom: 'unknown',
          role: KTUBERLING_ROLE[lang] ?? 'train',
        };
        return [{ speaker, path }];
      }),
  };
}

// --- Tux Paint stamp descriptions (*_desc_<lang>.ogg, 44.1 kHz): volunteers named in the upstream changelog.
const TUXPAINT_ROOT = '/usr/share/tuxpaint/stamps';
const TUXPAINT: Record<string, Pick<RealSpeaker, 'sex' | 'sexFrom' | 'credit' | 'role'>> = {
  fr: { sex: 'm', sexFrom: 'guessed', credit: 'Jacques Chion, PaulK', role: 'real-test' },
  ru: { sex: 'm', sexFrom: 'guessed', credit: 'Edwin Veber', role: 'real-test' },
  ro: { sex: 'f', sexFrom: 'guessed', credit: 'Tabbytha', role: 'real-test' },
  bg: { sex: 'm', sexFrom: 'guessed', credit: 'Krasimir Petkov', role: 'real-test' },
  es: { sex: 'f', sexFrom: 'credits', credit: 'Estefanía Ortiz', role: 'babble-real-test' }, // mastered into clipping: babble only
  be: { sex: 'f', sexFrom: 'guessed', credit: 'Kseniya Buraya', role: 'babble-real-test' },
  el: { sex: 'f', sexFrom: 'guessed', credit: 'Kiriaki Serafeim', role: 'real-test' },
  da: { sex: 'm', sexFrom: 'guessed', credit: 'Joe Dalton', role: 'babble-real-test' },
  lt: { sex: 'm', sexFrom: 'guessed', role: 'babble-real-test' },
  nl: { sex: 'm', sexFrom: 'guessed', role: 'babble-real-test' },
  // ca is recorded through a ≈ 4 kHz channel (fails the bandwidth gate); ml has 6 files: both left out.
};

function tuxpaintSource(): RealSpeechSource {
  return {
    package: 'tuxpaint-stamps-default',
    root: TUXPAINT_ROOT,
    licence: 'GPL-2',
    files: () =>
      walk(TUXPAINT_ROOT, /_desc_[a-z]+\.ogg$/).flatMap((path) => {
        const lang = /_desc_([a-z]+)\.ogg$/.exec(path)![1];
        const t = TUXPAINT[lang];
        if (!t) return [];
        return [{ speaker: { id: `tuxpaint-${lang}`, package: 'tuxpaint-stamps-default', language: lang, licence: 'GPL-2', ...t }, path }];
      }),
  };
}

export function realSpeechSources(): RealSpeechSource[] {
  return [...asteriskSources(), filletsSource(), ktuberlingSource(), tuxpaintSource()];
}

// --- Real noise held out for real-test.
export interface RealNoiseFile {
  package: string;
  path: string;
  category: string;
  licence: string;
}

const MOH_ROOT = '/usr/share/asterisk/moh';

/** Tux Paint sound effects by folder; road signs, roll calls and dreidel letters may hold speech: left out. */
function tuxpaintEffectCategory(rel: string): string | null {
  if (/_desc|^symbols\/|^town\/|^military\/|hanukkah\//.test(rel)) return null;
  if (/^household\//.test(rel)) return 'appliance';
  if (/^animals\//.test(rel)) return 'animals';
  if (/^hobbies\/music\//.test(rel)) return 'instrument';
  return 'effects';
}

/** Every real-test noise recording: music on hold (16 kHz G.722) and Tux Paint's sound effects. */
export function realTestNoise(): RealNoiseFile[] {
  const moh = walk(MOH_ROOT, /\.g722$/).map((path) => ({ package: 'asterisk-moh-opsound-g722', path, category: 'music', licence: 'CC-BY-SA-3.0' }));
  const fx = walk(TUXPAINT_ROOT, /\.(ogg|wav)$/).flatMap((path) => {
    const category = tuxpaintEffectCategory(relative(TUXPAINT_ROOT, path));
    return category ? [{ package: 'tuxpaint-stamps-default', path, category, licence: 'GPL-2' }] : [];
  });
  return [...moh, ...fx];
}

/** Packages of the speech-data group whose files the real sizes read, with a path each must install. */
export const SPEECH_DATA_PACKAGES: [string, string][] = [
  ...Object.entries(ASTERISK).map(([folder, sp]) => [sp.package, join(ASTERISK_ROOT, folder)] as [string, string]),
  ['asterisk-moh-opsound-g722', MOH_ROOT],
  ['fillets-ng-data-cs', join(FILLETS_ROOT, 'city', 'cs')],
  ['ktuberling-data', KTUBERLING_ROOT],
  ['tuxpaint-stamps-default', TUXPAINT_ROOT],
];

export function missingSpeechData(): string[] {
  return SPEECH_DATA_PACKAGES.filter(([, p]) => !existsSync(p)).map(([pkg]) => pkg);
}

/** The one-line error naming the setup option, when a package of the speech-data group is missing. */
export function requireSpeechData(size: string, missing = missingSpeechData()): void {
  if (missing.length === 0) return;
  throw new HilError(
    `the ${size} corpus needs real recorded speech from Debian packages not installed here: ${missing.join(', ')}`,
    'install them with `bash scripts/setup.sh --with-speech-data` (about 310 MB to download)',
  );
}

/** Does ffmpeg run (G.722 and Opus decoding)? */
export const FFMPEG_HINT = 'install it with `bash scripts/setup.sh --with-speech-data` (Debian: ffmpeg)';
