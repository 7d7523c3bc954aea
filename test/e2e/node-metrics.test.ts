/**
 * /metrics of a node of two workers answers for the whole node, whichever worker takes the
 * scrape: counters are summed over the processes (consecutive scrapes never go down — Prometheus
 * would read that as a reset), messages are counted where they are stored (the primary, the
 * node's writer on SQLite), and each process's runtime metrics carry its own worker label.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";

/** Every sample of an exposition: `name{labels}` → value; throws on a line that is not a sample. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    // prom-client writes NaN as "Nan"; Prometheus reads NaN in any case.
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (-?[0-9.eE+-]+|Nan|[+-]Inf)$/.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    out.set(match[1]!, match[2] === "Nan" ? NaN : Number(match[2]));
  }
  return out;
}

/** The samples of one metric (and its labels). */
function series(all: Map<string, number>, name: string): Map<string, number> {
  return new Map([...all].filter(([key]) => key === name || key.startsWith(`${name}{`)));
}

/** Separate connections, so both workers serve the calls (the primary hands connections round-robin). */
async function scrapes(url: string, count: number): Promise<Array<Map<string, number>>> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/metrics`, { headers: { connection: "close" } });
    expect(res.status).toBe(200);
    out.push(samples(await res.text()));
  }
  return out;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ workers: 2, env: { WORKER_ID: "60" } });
  await server.printed((output) => output.includes('"msg":"parley cluster listening"'), 30_000);
});
afterAll(async () => {
  await server?.stop();
});

describe("/metrics of a node of two workers", () => {
  it("answers the node's sums: every scrape the same counts, posts counted once, where they are stored", async () => {
    const owner = await newUser(server.url, "grpc");
    const { room } = await owner.clients.rooms.createRoom({ name: uniqueName("metrics") });
    const posts = 6;
    // Each chatClients() call opens its own HTTP/2 connection: the posts are served by both workers.
    for (let i = 0; i < posts; i++) await chatClients(server.url, owner.token, "grpc").messages.postMessage({ roomId: room!.roomId, text: `m${i}` });
    await chatClients(server.url, owner.token, "grpc").messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: owner.user.userId }, text: "note" });

    const seen = await scrapes(server.url, 6);
    for (const scrape of seen) {
      expect(scrape.get('parley_messages_posted_total{kind="room"}')).toBe(posts);
      expect(scrape.get('parley_messages_posted_total{kind="direct"}')).toBe(1);
      expect(scrape.get('parley_rpcs_total{procedure="/chat.v1.MessageService/PostMessage",code="ok"}')).toBe(posts);
      expect(scrape.get('parley_rpcs_total{procedure="/chat.v1.AuthService/SignIn",code="ok"}')).toBeGreaterThanOrEqual(1);
    }
    // Consecutive scrapes never go down: no counter of the node reads as reset.
    for (let i = 1; i < seen.length; i++) {
      for (const name of ["parley_rpcs_total", "parley_messages_posted_total", "parley_rpc_duration_seconds_count", "parley_messages_delivered_total"]) {
        const earlier = series(seen[i - 1]!, name);
        // The loop below asserts nothing over an empty series: each must be there.
        expect(earlier.size, name).toBeGreaterThan(0);
        for (const [key, value] of earlier) expect(seen[i]!.get(key), key).toBeGreaterThanOrEqual(value);
      }
    }
  });

  it("labels each process's runtime metrics with its worker, the primary's included, NaN kept NaN", async () => {
    const [scrape] = await scrapes(server.url, 1);
    // A value JSON cannot carry (NaN, before the first event-loop sample) must not come out as +Inf.
    for (const [key, value] of scrape!) if (value === Infinity) expect(key).toMatch(/le="\+Inf"/);
    const workers = [...series(scrape!, "process_cpu_user_seconds_total").keys()].map((key) => /worker="([^"]+)"/.exec(key)?.[1]).sort();
    expect(workers).toEqual(["60", "61", "primary"]);
    expect(series(scrape!, "process_start_time_seconds").size).toBe(3);
    expect(series(scrape!, "nodejs_heap_size_used_bytes").size).toBe(3);
  });
});

describe("/metrics of a single process", () => {
  it("labels its runtime metrics with its WORKER_ID", async () => {
    const single = await startServer({ env: { WORKER_ID: "7" }, oneProcess: "the single-process case of /metrics" });
    try {
      const [scrape] = await scrapes(single.url, 1);
      expect([...series(scrape!, "process_cpu_user_seconds_total").keys()]).toEqual(['process_cpu_user_seconds_total{worker="7"}']);
    } finally {
      await single.stop();
    }
  });
});
