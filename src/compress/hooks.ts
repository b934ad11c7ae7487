/**
 * The learned structures as training hooks (docs/training.md, "Compression hooks"): before each step of
 * the schedule's update steps, recompute the masks from the current weights and the previous masks.
 * Decisions depend only on the global step, the weights and the masks, all of which the checkpoint
 * restores, so a resumed compression continues exactly. Between updates and after the last one the masks
 * stay as they are (train() applies them in every forward and after every optimizer step).
 */
import type { Arch } from '../model/arch.js';
import type { StepContext, TrainHooks } from '../model/train.js';
import type { Profile } from './profile.js';
import { matchesPrune } from './profile.js';
import { isUpdateStep, planSteps, sparsityAt } from './schedule.js';
import { blockMask, unitLayers, unitMasks, weightMask } from './structures.js';

/** Matrices a weight/block profile prunes. */
export function prunedMatrices(profile: Profile, matrices: readonly string[]): string[] {
  return matrices.filter((m) => matchesPrune(m, profile.prune));
}

/** Unit layers a unit profile prunes (`all`: fc_in and every recurrent layer). */
export function prunedUnitLayers(profile: Profile, arch: Arch) {
  return unitLayers(arch).filter((l) => profile.prune.includes('all') || profile.prune.includes(l.name));
}

export function pruningHooks(profile: Profile, arch: Arch, log: (line: string) => void = () => {}): TrainHooks {
  const s = profile.structure;
  if (s !== 'weight' && s !== 'block' && s !== 'unit') return {};
  return {
    beforeStep(ctx: StepContext) {
      const plan = planSteps(profile.schedule, ctx.totalSteps);
      if (!isUpdateStep(profile.schedule, plan, ctx.step)) return;
      const target = sparsityAt(profile.schedule, plan, ctx.step, profile.sparsity);
      if (target === 0) return;
      if (s === 'unit') {
        const layers = prunedUnitLayers(profile, arch);
        for (const [name, m] of unitMasks(layers, ctx, target)) ctx.setMask(name, m);
      } else {
        for (const name of prunedMatrices(profile, ctx.matrices)) {
          const w = ctx.weights(name);
          const prev = ctx.mask(name);
          const [rows, cols] = ctx.shape(name);
          ctx.setMask(name, s === 'weight' ? weightMask(w, prev, target) : blockMask(w, rows, cols, profile.block![0], profile.block![1], prev, target));
        }
      }
      const final = ctx.step === plan.t1 ? ' (final; masks fixed from here on)' : '';
      log(`prune step ${ctx.step}/${ctx.totalSteps}: ${s} sparsity ${(100 * target).toFixed(1)} %${final}`);
    },
  };
}
