/**
 * @module approvals/waiters
 * In-process wake-ups for long-polling waiters: `next(id, ms)` resolves when `notify(id)` is called
 * or after `ms`, whichever comes first. It carries no data; the waiter re-reads the row, so a missed
 * or spurious wake-up can only cost one extra read.
 */
export class Waiters {
  readonly #byId = new Map<string, Set<() => void>>();

  next(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#byId.get(id) ?? new Set<() => void>();
      this.#byId.set(id, set);
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.#byId.get(id) === set) this.#byId.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }

  notify(id: string): void {
    const set = this.#byId.get(id);
    if (!set) return;
    for (const wake of [...set]) wake();
  }
}
