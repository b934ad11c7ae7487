/**
 * Recorded ambiences from Debian game-data packages (the `noise-data` group of scripts/deps.json): what
 * each package contributes, under which category and licence. The licences are those of the packages'
 * /usr/share/doc/<package>/copyright, checked file by file where a package licenses its sounds unevenly.
 * Ambiences and workshop/crowd/animal sounds are taken for every size that has recorded noise; music,
 * instrument loops and sound effects only for the real sizes (`realOnly`), whose real-test split holds out
 * music, instruments and effects of other packages (Asterisk's music on hold, Tux Paint): without their
 * like in train, a network trained there treats tonal noise as speech. Interface clicks and alarms are never
 * taken, nor anything with a voice in it.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HilError } from '../util/errors.js';

export interface RecordedSource {
  package: string;
  /** Short name used in ids. */
  short: string;
  root: string;
  /** Category of a file from its path relative to `root`, or null to leave it out. */
  category(rel: string): string | null;
  licence(rel: string): string;
  /** Only the real sizes take it; `paper` keeps the catalogue it was built with. */
  realOnly?: boolean;
}

const AUDIO = /\.(ogg|wav|flac)$/i;

function firstMatch(rel: string, rules: [RegExp, string | null][], fallback: string | null): string | null {
  for (const [re, cat] of rules) if (re.test(rel)) return cat;
  return fallback;
}

/** sonic-pi-samples' copyright lists each freesound.org sample as CC0; the rest fall under its `Files: *` (MIT). */
const SONIC_PI_CC0 = new Set(['ambi_dark_woosh', 'ambi_drone', 'ambi_glass_hum', 'ambi_glass_rub', 'ambi_haunted_hum', 'ambi_lunar_land', 'ambi_piano', 'ambi_soft_buzz', 'ambi_swoosh', 'loop_industrial', 'vinyl_hiss']);

const sonicPiLicence = (rel: string): string => (SONIC_PI_CC0.has(rel.replace(AUDIO, '')) ? 'CC0-1.0' : 'MIT');

export const RECORDED_SOURCES: RecordedSource[] = [
  {
    package: 'megaglest-data',
    short: 'megaglest',
    root: '/usr/share/games/megaglest/tilesets',
    category: (rel) =>
      /\/sounds\//.test(rel)
        ? firstMatch(rel, [[/rain/, 'rain'], [/wind/, 'wind'], [/(wolf|chicken|hawk|owl|rooster|cow)/, 'animals']], 'nature')
        : null,
    licence: () => 'CC-BY-SA-3.0',
  },
  {
    package: 'widelands-data',
    short: 'widelands',
    root: '/usr/share/games/widelands/data/sound',
    category: (rel) =>
      firstMatch(
        rel,
        [
          [/^(click|create_construction_site|lobby_|message_)|^(military|fisher)\//, null],
          [/taverns\//, 'crowd'],
          [/^animals\/|^farm\/(donkey|farm_animal|horse|ox|sheep)/, 'animals'],
        ],
        'workshop',
      ),
    licence: () => 'GPL-2+',
  },
  {
    package: 'minetest-data',
    short: 'minetest',
    root: '/usr/share/games/minetest/games/minetest_game/mods',
    category: (rel) => firstMatch(rel, [[/env_sounds_water/, 'water'], [/env_sounds_lava|^fire\/|furnace_active/, 'fire']], null),
    licence: () => 'CC-BY-SA-3.0',
  },
  {
    package: 'sonic-pi-samples',
    short: 'sonicpi',
    root: '/usr/share/sonic-pi/samples',
    category: (rel) => firstMatch(rel, [[/^ambi_choir/, null], [/^ambi_/, 'ambient'], [/^vinyl_hiss/, 'hiss'], [/^loop_(3d_printer|industrial)/, 'machinery']], null),
    licence: sonicPiLicence,
  },
  {
    package: 'sonic-pi-samples',
    short: 'sonicpi',
    root: '/usr/share/sonic-pi/samples',
    realOnly: true,
    // The first entry's categories (ambiences, hiss, machinery) come first, so no file is in both.
    category: (rel) =>
      firstMatch(
        rel,
        [
          [/^(ambi_|vinyl_hiss|loop_(3d_printer|industrial)|mehackit_robot|glitch_robot)/, null],
          [/^(loop_|guit_|bass_|tabla_|drum_roll)/, 'instrument'],
          [/^(mehackit_phone|perc_|vinyl_|glitch_|misc_|elec_)/, 'effects'],
        ],
        null,
      ),
    licence: sonicPiLicence,
  },
  {
    package: 'widelands-data',
    short: 'widelandsmusic',
    root: '/usr/share/games/widelands/data/music',
    realOnly: true,
    category: () => 'music',
    // debian/copyright names three tracks by Stuart Marshall under CC-BY-SA-3.0; the rest fall under `Files: *`.
    licence: (rel) => (/^ingame_2[456]\./.test(rel) ? 'CC-BY-SA-3.0' : 'GPL-2+'),
  },
  {
    package: 'lincity-ng-data',
    short: 'lincitymusic',
    root: '/usr/share/games/lincity-ng/music',
    realOnly: true,
    category: () => 'music',
    licence: () => 'GPL-2+',
  },
  {
    package: 'lincity-ng-data',
    short: 'lincity',
    root: '/usr/share/games/lincity-ng/sounds',
    category: (rel) =>
      firstMatch(
        rel,
        [
          [/^(Trafic|RailTrain|DirtTrack)/, 'traffic'],
          [/^(SportsCroud|Market|Residential|School|University|Health|Shanty|Commune)/, 'crowd'],
          [/^(Industry|PowerCoal|CoalMine|OreMine|Mill|Recycle|Blacksmith|WindMill|Substation|Rocket|MonumentConstruction|Build)/, 'machinery'],
        ],
        'city',
      ),
    licence: () => 'GPL-2+',
  },
];

export function missingRecordedPackages(): string[] {
  return RECORDED_SOURCES.filter((s) => !existsSync(s.root)).map((s) => s.package);
}

/** Throws the one-line error that says how to install the recorded-noise packages, when any is missing. */
export function requireRecorded(size: string, missing = missingRecordedPackages()): void {
  if (missing.length === 0) return;
  throw new HilError(
    `the ${size} corpus needs recorded noise from Debian packages not installed here: ${missing.join(', ')}`,
    'install them with `bash scripts/setup.sh --with-noise-data` (about 700 MB to download), or bring your own with --noise-dir',
  );
}

export interface RecordedFile {
  source: RecordedSource;
  /** Path as installed (symlinks not resolved: it is what a user finds in the package). */
  path: string;
  rel: string;
  category: string;
  /** The file the path resolves to: two paths to one file are one recording. */
  real: string;
  bytes: number;
  mtimeMs: number;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, name.name);
    if (name.isDirectory()) out.push(...walk(p));
    else if (AUDIO.test(name.name)) out.push(p);
  }
  return out;
}

/**
 * Every catalogued file, in a fixed order, symlinks and duplicates included (deduplication comes later);
 * `realOnly` sources only when `real` (the default lists everything).
 */
export function listRecorded(opts: { real?: boolean } = {}): RecordedFile[] {
  const out: RecordedFile[] = [];
  for (const source of RECORDED_SOURCES) {
    if (!existsSync(source.root) || (source.realOnly && opts.real === false)) continue;
    for (const path of walk(source.root)) {
      const rel = relative(source.root, path);
      const category = source.category(rel);
      if (!category) continue;
      const real = realpathSync(path);
      const st = statSync(real);
      out.push({ source, path, rel, category, real, bytes: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}
