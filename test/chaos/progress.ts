/**
 * Waiting on what the chaos clients do, without polling: clients call notify() when something
 * happened (a Ready, a message, an answer); until() re-checks its condition then, at most once
 * per `everyMs` so a burst of receipts does not re-run an expensive check each time.
 */
export class Progress {
  readonly #watchers = new Set<() => void>();

  notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  /** Resolves true once `check` holds (tested at once and after notifications), false after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number, everyMs = 0): Promise<boolean> {
    return new Promise((resolve) => {
      let lastCheck = 0;
      let pending: NodeJS.Timeout | undefined;
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        clearTimeout(pending);
        this.#watchers.delete(watcher);
        resolve(ok);
      };
      const test = () => {
        pending = undefined;
        lastCheck = Date.now();
        if (check()) finish(true);
      };
      const watcher = () => {
        if (pending) return;
        const wait = lastCheck + everyMs - Date.now();
        if (wait <= 0) test();
        else pending = setTimeout(test, wait);
      };
      const timer = setTimeout(() => finish(check()), timeoutMs);
      this.#watchers.add(watcher);
      test();
    });
  }
}

/** Resolves after `ms`: for schedules (a fault at t+5 s), never to wait for something to happen. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
