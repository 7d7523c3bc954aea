/** Progress lines on stderr for long runs (silent with --quiet). */
import type { LoadPool } from "./load/pool.js";

export class ProgressLog {
  constructor(private readonly quiet: boolean) {}

  line(text: string): void {
    if (!this.quiet) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
  }

  /** Logs the pool's connected count every second until the returned stop() is called. */
  watchConnect(pool: LoadPool, target: number): () => void {
    let last = 0;
    const timer = setInterval(() => {
      const { connected } = pool.totals();
      this.line(`connected ${connected}/${target} (+${connected - last}/s)`);
      last = connected;
    }, 1000);
    return () => clearInterval(timer);
  }

  /** Logs posts/s and deliveries/s every second until stop(). */
  watchTraffic(pool: LoadPool): () => void {
    let lastPosted = 0;
    let lastReceived = 0;
    const timer = setInterval(() => {
      const { posted, received } = pool.totals();
      this.line(`posted ${posted} (${posted - lastPosted}/s), delivered ${received} (${received - lastReceived}/s)`);
      lastPosted = posted;
      lastReceived = received;
    }, 1000);
    return () => clearInterval(timer);
  }
}
