/** Runs async work on a fixed number of lanes; the first failure stops new work and is rethrown. */
export async function forEachOnLanes<T>(items: readonly T[], lanes: number, work: (item: T, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async (id: number) => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item, id);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, (_, i) => lane(i)));
  if (failure) throw (failure as { error: unknown }).error;
}
