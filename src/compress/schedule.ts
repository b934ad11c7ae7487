/**
 * The gradual pruning schedule of Zhu & Gupta (2017, "To prune, or not to prune"): sparsity rises from 0 to
 * the target along a cubic that prunes fast while there are many redundant weights and slowly near the
 * end, with masks recomputed every `every` steps between t0 and t1. After t1 the mask is fixed, so the
 * remaining steps (and the QAT range freeze at 80 %) train the surviving weights on the final structure.
 */
import type { PruneSchedule } from './profile.js';

export interface StepPlan {
  /** First and last mask update (global steps). */
  t0: number;
  t1: number;
}

export function planSteps(s: PruneSchedule, totalSteps: number): StepPlan {
  const t0 = Math.min(totalSteps - 1, Math.max(0, Math.round(s.start * totalSteps)));
  const t1 = Math.min(totalSteps - 1, Math.max(t0, Math.round(s.end * totalSteps)));
  return { t0, t1 };
}

/** Whether the masks are recomputed before `step`: every `every` steps from t0, and always at t1. */
export function isUpdateStep(s: PruneSchedule, plan: StepPlan, step: number): boolean {
  if (step < plan.t0 || step > plan.t1) return false;
  return step === plan.t1 || (step - plan.t0) % s.every === 0;
}

/** Target sparsity at `step` for a final sparsity `target` (0 before t0, `target` from t1 on). */
export function sparsityAt(s: PruneSchedule, plan: StepPlan, step: number, target: number): number {
  if (step < plan.t0) return 0;
  if (step >= plan.t1) return target;
  const p = (step - plan.t0) / (plan.t1 - plan.t0);
  return target * (1 - (1 - p) ** s.power);
}
