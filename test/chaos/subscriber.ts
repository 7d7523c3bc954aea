/**
 * A chaos subscriber: one channel, one transport, a home node. It keeps a stream open until
 * stopped, and records every stream it opened (a segment: node, `since`, when it was Ready, how it
 * ended) and every message it received. When a stream ends — its node died, the server ended it,
 * or its own resume schedule closed it — it opens the next one with `since` = the last message id
 * it received (or the Ready position, if it has received none), on its node if that is alive and
 * on the other one otherwise, as a careful client does.
 */
import type { Rng } from "../support/fuzz-random.js";
import { other, type NodeName, type Nodes } from "./nodes.js";
import type { Progress } from "./progress.js";
import { openStream, type OpenedStream, type Target, type Transport } from "./streams.js";

export interface Segment {
  readonly node: NodeName;
  /** The cursor the stream was opened with ("" for a fresh stream). */
  readonly since: string;
  readonly openedAt: number;
  readyAt?: number;
  position?: string;
  endedAt?: number;
  end?: string;
}

export interface Receipt {
  readonly id: string;
  readonly clientMessageId: string;
  readonly at: number;
  readonly segment: number;
}

export interface GapRecord {
  readonly after: string;
  readonly before: string;
  readonly segment: number;
}

export interface SubscriberSpec {
  readonly name: string;
  readonly transport: Transport;
  /** The checker's channel key ("room:<id>" or "inbox:<userId>"). */
  readonly channel: string;
  readonly target: Target;
  readonly token: string;
  readonly home: NodeName;
  /** Close and resume every this many ms (jittered ±25 %); undefined: only when the stream ends. */
  readonly resumeEveryMs?: number;
}

export interface SubscriberRecord {
  readonly spec: SubscriberSpec;
  readonly segments: Segment[];
  readonly received: Receipt[];
  readonly gaps: GapRecord[];
}

export class ChaosSubscriber {
  readonly record: SubscriberRecord;
  readonly #nodes: Nodes;
  readonly #progress: Progress;
  readonly #rng: Rng;
  #node: NodeName;
  #cursor = "";
  #stopped = false;
  #stream: OpenedStream | undefined;
  #running: Promise<void> | undefined;

  constructor(spec: SubscriberSpec, nodes: Nodes, progress: Progress, rng: Rng) {
    this.record = { spec, segments: [], received: [], gaps: [] };
    this.#nodes = nodes;
    this.#progress = progress;
    this.#rng = rng;
    this.#node = spec.home;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** True once any of its streams has been Ready. */
  get ready(): boolean {
    return this.record.segments.some((s) => s.readyAt !== undefined);
  }

  /** True while its current stream is Ready and open. */
  get live(): boolean {
    const last = this.record.segments.at(-1);
    return last?.readyAt !== undefined && last.endedAt === undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stream?.close();
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      // A dead node stays dead for the rest of a scenario: move to the other one for good.
      if (!this.#nodes.alive(this.#node)) this.#node = other(this.#node);
      const reason = await this.#segment(this.#node);
      if (this.#stopped) break;
      if (reason === "resume") {
        failures = 0;
        continue;
      }
      // An unexpected end: back off a little (longer after repeated failures) and resume.
      failures++;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * failures) + this.#rng.int(200)));
    }
  }

  /** One stream, until it ends; "resume" when the schedule closed it. */
  #segment(node: NodeName): Promise<string> {
    const { spec } = this.record;
    const index = this.record.segments.length;
    const segment: Segment = { node, since: this.#cursor, openedAt: Date.now() };
    this.record.segments.push(segment);
    return new Promise((resolve) => {
      let scheduled = false;
      const timer =
        spec.resumeEveryMs === undefined
          ? undefined
          : setTimeout(() => {
              scheduled = true;
              this.#stream?.close();
            }, spec.resumeEveryMs * (0.75 + this.#rng.next() / 2));
      this.#stream = openStream(spec.transport, this.#nodes.url(node), spec.token, spec.target, this.#cursor, {
        ready: (position) => {
          segment.readyAt = Date.now();
          segment.position = position;
          if (this.#cursor === "") this.#cursor = position;
          this.#progress.notify();
        },
        message: (id, clientMessageId) => {
          this.record.received.push({ id, clientMessageId, at: Date.now(), segment: index });
          this.#cursor = id;
          this.#progress.notify();
        },
        gap: (after, before) => {
          this.record.gaps.push({ after, before, segment: index });
        },
        end: (reason) => {
          clearTimeout(timer);
          segment.endedAt = Date.now();
          segment.end = scheduled ? "resume" : reason;
          this.#progress.notify();
          resolve(scheduled ? "resume" : reason);
        },
      });
    });
  }
}
