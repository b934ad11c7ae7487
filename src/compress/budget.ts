/**
 * Per-structure fine-tuning budgets (docs/compression.md "Fine-tuning length"): the structures do not
 * recover equally fast (block-80 gains 1.3 dB from 240 to 720 steps, weight-70 a few tenths), so a
 * comparison may give each its own budget. `npm run bench:compress -- --budget block=720,unit=480` takes one
 * spec; every manifest records the budget it was trained with (`budget`), so a table says what each row
 * was allowed.
 *
 * A budget replaces the profile's `fine_tune.steps`/`epochs` and renames it `<name>-s<steps>` (or
 * `-e<epochs>`): the resolved profile, hence the compression's identity and its directory, differ from the
 * profile's own, so a budgeted model is never taken for (or written over) the committed one.
 */
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import { STRUCTURES, type FineTune, type Profile, type Structure } from './profile.js';

/** Steps (rounded up to whole epochs by training, as a profile's are) or whole epochs. */
export type Budget = { steps: number; epochs: null } | { steps: null; epochs: number };

/** The structures that train: offline prunes without fine-tuning, so a budget would mean nothing there. */
const TRAINED: readonly Structure[] = STRUCTURES.filter((s) => s !== 'offline');

const FIX = 'write <structure>=<steps> or <structure>=<n>ep, comma-separated, e.g. block=720,unit=480,weight=30ep';

/**
 * Parses `block=720,unit=480,weight=30ep` (`where` names the option in messages). Structures are
 * weight, block, unit and none (dense-int8's QAT fine-tuning); each at most once; counts at least 1.
 */
export function parseBudgets(spec: string, where = '--budget'): Map<Structure, Budget> {
  const out = new Map<Structure, Budget>();
  const items = spec.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new HilError(`${where} "${spec}" has an empty entry`, FIX);
  for (const item of items) {
    const m = /^([a-z]+)=([0-9]+)(ep)?$/.exec(item);
    if (!m) throw new HilError(`${where} entry "${item}" is not <structure>=<count>`, FIX);
    const structure = m[1] as Structure;
    if (!(STRUCTURES as readonly string[]).includes(structure)) throw new HilError(`${where} entry "${item}": no structure "${m[1]}"`, `structures: ${TRAINED.join(', ')}`);
    if (!TRAINED.includes(structure)) throw new HilError(`${where} entry "${item}": structure offline prunes without fine-tuning`, 'drop the entry; offline profiles take no budget');
    if (out.has(structure)) throw new HilError(`${where} gives structure ${structure} twice`, 'give each structure one budget');
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1) throw new HilError(`${where} entry "${item}": the count must be at least 1`, FIX);
    out.set(structure, m[3] ? { steps: null, epochs: n } : { steps: n, epochs: null });
  }
  return out;
}

/** The spec back from parsed budgets, in STRUCTURES order (what a manifest's `budget.source` records). */
export function formatBudgets(budgets: ReadonlyMap<Structure, Budget>): string {
  return STRUCTURES.filter((s) => budgets.has(s))
    .map((s) => `${s}=${budgetLabel(budgets.get(s)!, true)}`)
    .join(',');
}

/** "720" / "30ep" (short, as in a spec) or "720 steps" / "30 epochs". */
export function budgetLabel(b: Pick<FineTune, 'steps' | 'epochs'>, short = false): string {
  if (b.epochs !== null) return short ? `${b.epochs}ep` : `${b.epochs} epochs`;
  return short ? String(b.steps ?? 0) : `${b.steps ?? 0} steps`;
}

/**
 * The profile as trained with `budget`: its fine-tuning steps/epochs replaced and its name suffixed with
 * the budget. A budget equal to the profile's own leaves it unchanged (same identity, same directory).
 */
export function withBudget(profile: Profile, budget: Budget | undefined): Profile {
  if (!budget) return profile;
  const ft = profile.fineTune;
  if (ft.steps === budget.steps && ft.epochs === budget.epochs) return profile;
  const suffix = budget.epochs !== null ? `e${budget.epochs}` : `s${budget.steps}`;
  return { ...profile, name: `${profile.name}-${suffix}`, fineTune: { ...ft, steps: budget.steps, epochs: budget.epochs } };
}

/** The budget a manifest records: what was asked, what ran, and where it came from. */
export const BudgetRecordSchema = Type.Object({
  /** The resolved profile's fine-tuning budget: steps (null when given in epochs) or epochs. */
  steps: Type.Union([Type.Integer(), Type.Null()]),
  epochs: Type.Union([Type.Integer(), Type.Null()]),
  /** Whole epochs trained, and the optimizer steps they were (0 and 0 for offline). */
  epochsRun: Type.Integer(),
  stepsRun: Type.Integer(),
  /** "profile" (its own fine_tune), "--epochs <n>" (hil compress), or the --budget spec that set it. */
  source: Type.String(),
});
export type BudgetRecord = Static<typeof BudgetRecordSchema>;

/**
 * What a manifest says about its budget: its `budget` record, or for manifests written before the record
 * existed the same figures from its resolved profile and training record (source "profile").
 */
export function budgetOf(m: {
  budget?: BudgetRecord;
  profileSpec: { fineTune: Pick<FineTune, 'steps' | 'epochs'> };
  training: { epochs: number; steps: number } | null;
}): BudgetRecord {
  if (m.budget) return m.budget;
  const ft = m.profileSpec.fineTune;
  return { steps: ft.steps, epochs: ft.epochs, epochsRun: m.training?.epochs ?? 0, stepsRun: m.training?.steps ?? 0, source: 'profile' };
}

/** A table cell: "720 steps (720 run)"; `*` marks a budget set outside the profile (--budget, --epochs); "–" without training. */
export function budgetCell(b: BudgetRecord): string {
  if (b.epochsRun === 0) return '–';
  const asked = budgetLabel(b);
  const from = b.source === 'profile' ? '' : ' *';
  return `${asked}${from} (${b.stepsRun} run)`;
}
