/**
 * The external programs a corpus build runs, checked before any work starts (a missing voice found after
 * ten minutes of synthesis is a poor experience), and their versions, which enter the corpus's cache keys:
 * an upgraded TTS engine makes different audio, so its utterances are regenerated.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { HilError } from '../util/errors.js';

const SETUP_HINT = 'install it with `bash scripts/setup.sh` (Debian packages of the core group)';

interface Requirement {
  name: string;
  packages: string[];
  present: () => boolean;
}

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

function fliteHasVoices(): boolean {
  const r = spawnSync('flite', ['-lv'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return false;
  const voices = new Set(r.stdout.replace(/^[^:]*:/, '').trim().split(/\s+/));
  return ['slt', 'awb', 'rms', 'kal16'].every((v) => voices.has(v));
}

const SOX: Requirement = { name: 'sox', packages: ['sox', 'libsox-fmt-all'], present: () => runs('sox', ['--version']) };
const TTS: Requirement[] = [
  { name: 'flite with voices slt, awb, rms, kal16', packages: ['flite'], present: fliteHasVoices },
  { name: 'festival', packages: ['festival'], present: () => runs('festival', ['--version']) },
  { name: 'festival voice us-slt-hts', packages: ['festvox-us-slt-hts'], present: () => existsSync('/usr/share/festival/voices/us/cmu_us_slt_arctic_hts') },
  { name: 'festival voice kal', packages: ['festvox-kallpc16k'], present: () => existsSync('/usr/share/festival/voices/english/kal_diphone') },
  { name: 'festival voice ked', packages: ['festvox-kdlpc16k'], present: () => existsSync('/usr/share/festival/voices/english/ked_diphone') },
];
const ESPEAK: Requirement = { name: 'espeak-ng', packages: ['espeak-ng'], present: () => runs('espeak-ng', ['--version']) };

/** Throws a one-line HilError naming what is missing. `tts`: clean speech; `babble`: babble noise. */
export function requireTools(needs: { tts: boolean; babble: boolean }): void {
  const list = [SOX, ...(needs.tts ? [...TTS, ESPEAK] : needs.babble ? [ESPEAK] : [])];
  const missing = list.filter((r) => !r.present());
  if (missing.length) {
    const pkgs = [...new Set(missing.flatMap((r) => r.packages))].join(' ');
    throw new HilError(`building the corpus needs ${missing.map((r) => r.name).join(', ')}, not found (Debian: ${pkgs})`, SETUP_HINT);
  }
}

const VERSIONED_PACKAGES = ['sox', 'libsox3', 'flite', 'festival', 'festvox-us-slt-hts', 'festvox-kallpc16k', 'festvox-kdlpc16k', 'espeak-ng', 'espeak-ng-data'];

let cached: Record<string, string> | undefined;

/**
 * Versions of the audio tools: Debian package versions when dpkg knows them (they change with every
 * rebuild of a voice), else the programs' own --version lines.
 */
export function audioToolVersions(): Record<string, string> {
  if (cached) return cached;
  const out: Record<string, string> = {};
  const q = spawnSync('dpkg-query', ['-W', '-f=${Package}=${Version}\\n', ...VERSIONED_PACKAGES], { encoding: 'utf8', timeout: 20_000 });
  for (const line of (q.stdout ?? '').split('\n')) {
    const [pkg, version] = line.split('=');
    if (pkg && version) out[pkg] = version;
  }
  const fallback: [string, string, string[]][] = [
    ['sox', 'sox', ['--version']],
    ['flite', 'flite', ['--version']],
    ['festival', 'festival', ['--version']],
    ['espeak-ng', 'espeak-ng', ['--version']],
  ];
  for (const [key, cmd, args] of fallback) {
    if (out[key]) continue;
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
    const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim());
    out[key] = r.status === 0 && line ? line.trim() : 'absent';
  }
  cached = Object.fromEntries(Object.entries(out).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  return cached;
}
