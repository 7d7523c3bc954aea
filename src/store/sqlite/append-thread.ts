/**
 * Message appends, committed on their own thread (append-worker.ts) with group commit: while
 * one batch is being written and fsynced there, the appends that arrive meanwhile queue here
 * and go as the next batch, in one transaction, the moment the first is answered. The event
 * loop never waits for the disk, and a busier server writes bigger batches, not more of them.
 * Each append's promise resolves only once its row is committed, in the order appended.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ChatMessage } from "../../domain/model.js";
import type { AppendResult, IdempotencyKey } from "../store.js";
import type { AppendItem, AppendOutcome } from "./message-appender.js";
import type { Synchronous } from "./open-database.js";

/** What the append thread is started with. */
export interface AppendWorkerData {
  readonly file: string;
  readonly synchronous: Synchronous;
}

/** A message to the append thread: a batch to write, or the order to close its connection and end. */
export type AppendRequest = { readonly type: "append"; readonly items: readonly AppendItem[] } | { readonly type: "close" };

/** The append thread's answer to one batch: every outcome (in order), or why none was stored. */
export type AppendReply =
  | { readonly type: "appended"; readonly outcomes: readonly AppendOutcome[] }
  | { readonly type: "failed"; readonly message: string; readonly code: string | undefined };

/**
 * The thread's module and Node flags. Built (`npm run build`: dist/…/append-thread.js) the
 * thread is the compiled append-worker.js; run from source (tests, the bench: tsx) it is the
 * TypeScript file, loaded through tsx's loader found from this file — tsx is a development
 * dependency, never needed by the built server.
 */
function threadModule(): { url: URL; execArgv: string[] } {
  if (import.meta.url.endsWith(".js")) return { url: new URL("./append-worker.js", import.meta.url), execArgv: [] };
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { url: new URL("./append-worker.ts", import.meta.url), execArgv: ["--import", tsxLoader] };
}

interface PendingAppend {
  readonly message: ChatMessage;
  readonly idempotency: IdempotencyKey | undefined;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class AppendThread {
  readonly #worker: Worker;
  #pending: PendingAppend[] = [];
  #inFlight: PendingAppend[] | undefined;
  #sendScheduled = false;
  #failure: Error | undefined;
  #closed: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];

  /** Starts the thread on `data.file`, whose schema must already be migrated. */
  constructor(data: AppendWorkerData) {
    const thread = threadModule();
    this.#worker = new Worker(thread.url, { workerData: data, execArgv: thread.execArgv });
    // Idle, the thread must not keep the process alive; busy, it must (see #send).
    this.#worker.unref();
    this.#worker.on("message", (reply: AppendReply) => this.#answer(reply));
    this.#worker.on("error", (error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))));
    this.#worker.on("exit", (code) => this.#fail(new Error(`SQLite append thread exited (code ${code})`)));
  }

  /** Queues an append; resolves once it is committed (or found under its idempotency key). */
  append(message: ChatMessage, idempotency: IdempotencyKey | undefined): Promise<AppendResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#pending.push({ message, idempotency, resolve, reject });
      if (!this.#inFlight && !this.#sendScheduled) {
        this.#sendScheduled = true;
        // Whatever else arrives in this event-loop turn joins the same batch.
        setImmediate(() => {
          this.#sendScheduled = false;
          this.#send();
        });
      }
    });
  }

  /** Writes everything queued, then ends the thread. Later appends fail. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await new Promise<void>((resolve) => {
        if (!this.#inFlight && this.#pending.length === 0) resolve();
        else this.#idleWaiters.push(resolve);
      });
      if (this.#failure) return;
      this.#failure = new Error("the store is closed");
      const exited = new Promise<void>((resolve) => this.#worker.once("exit", () => resolve()));
      this.#worker.ref();
      this.#worker.postMessage({ type: "close" } satisfies AppendRequest);
      await exited;
    })();
    return this.#closed;
  }

  #send(): void {
    if (this.#inFlight || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#inFlight = batch;
    this.#worker.ref();
    const items = batch.map(({ message, idempotency }): AppendItem => ({ message, idempotency }));
    this.#worker.postMessage({ type: "append", items } satisfies AppendRequest);
  }

  #answer(reply: AppendReply): void {
    const batch = this.#inFlight ?? [];
    this.#inFlight = undefined;
    if (reply.type === "appended") {
      batch.forEach((item, i) => {
        const first = reply.outcomes[i];
        item.resolve(first ? { message: first, created: false } : { message: item.message, created: true });
      });
    } else {
      const error = Object.assign(new Error(reply.message), { code: reply.code });
      for (const item of batch) item.reject(error);
    }
    // Everything that queued while the disk was busy goes now, as one batch.
    if (this.#pending.length > 0) this.#send();
    else this.#becameIdle();
  }

  /** The thread died or was closed: every queued and later append fails with `error`. */
  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = [...(this.#inFlight ?? []), ...this.#pending];
    this.#inFlight = undefined;
    this.#pending = [];
    for (const item of waiting) item.reject(this.#failure);
    this.#becameIdle();
  }

  #becameIdle(): void {
    this.#worker.unref();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
