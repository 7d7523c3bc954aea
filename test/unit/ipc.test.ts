/**
 * IPC batching (src/cluster/ipc.ts): what one side sends in an event-loop turn leaves
 * as one IPC message, and the other side's listeners get the items one by one, in order — the
 * order the sequencer relies on (a new message's broadcast before the reply to its append).
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { batchingCluster, batchingPort, type ClusterWorker, type WorkerProcess } from "../../src/cluster/ipc.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

class FakeWorker implements ClusterWorker {
  readonly sent: unknown[] = [];
  connected = true;
  isConnected() {
    return this.connected;
  }
  send(message: unknown, _h: undefined, _o: undefined, callback: (error: Error | null) => void) {
    this.sent.push(message);
    callback(null);
    return true;
  }
}

describe("IPC batching", () => {
  it("primary: a turn's sends to one worker go as one message, in order; received batches are unpacked in order", async () => {
    const source = new EventEmitter() as EventEmitter & { workers: Record<string, FakeWorker> };
    const w1 = new FakeWorker();
    const w2 = new FakeWorker();
    source.workers = { "1": w1, "2": w2 };
    const cluster = batchingCluster(source);
    const seen: Array<[unknown, unknown]> = [];
    cluster.on("message", (worker, message) => {
      seen.push([worker, message]);
      if (message === "append") worker.send("reply");
    });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send("broadcast");
    source.emit("message", w1, { parleyBatch: ["append", "other"] });
    await turn();
    expect(w1.sent).toEqual([{ parleyBatch: ["broadcast", "reply"] }]);
    expect(w2.sent).toEqual(["broadcast"]); // a lone message goes unwrapped
    expect(seen.map(([, m]) => m)).toEqual(["append", "other"]);
    expect(seen[0]![0]).toBe(cluster.workers!["1"]); // the same wrapped worker every time

    w2.connected = false;
    cluster.workers!["2"]!.send("lost");
    await turn();
    expect(w2.sent).toEqual(["broadcast"]);
  });

  it("worker: sends of one turn go as one message with every callback settled; listeners get the items", async () => {
    const proc = new EventEmitter() as EventEmitter & WorkerProcess & { sent: unknown[] };
    proc.sent = [];
    proc.send = (message, _h, _o, callback) => {
      proc.sent.push(message);
      setImmediate(() => callback(null));
      return true;
    };
    const port = batchingPort(proc);
    const settled: string[] = [];
    port.send!("a", () => settled.push("a"));
    port.send!("b", () => settled.push("b"));
    await turn();
    await turn();
    expect(proc.sent).toEqual([{ parleyBatch: ["a", "b"] }]);
    expect(settled).toEqual(["a", "b"]);

    const got: unknown[] = [];
    const listener = (m: unknown) => got.push(m);
    expect(proc.listenerCount("message")).toBe(0);
    port.on("message", listener);
    proc.emit("message", { parleyBatch: [1, 2] });
    proc.emit("message", 3);
    expect(got).toEqual([1, 2, 3]);
    port.off("message", listener);
    expect(proc.listenerCount("message")).toBe(0); // no listener left to keep the channel alive
  });
});
