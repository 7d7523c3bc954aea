/**
 * A request is admitted once and charged once, whichever path serves it. A subscribe stream
 * with a refused token is taken by the RPC fast path, which runs admission (its refusal counts
 * against the address as an anonymous call) and hands the request to connect-node to answer in
 * its protocol; connect-node applies that decision instead of running admission again. When it
 * ran it again, every refused stream cost the address two tokens and the limit let through
 * half of what it says. Unary calls (no fast path for them over Connect) are the control.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, type Protocol } from "../support/clients.js";

const BURST = 12;

/** A server of its own for each protocol: each exhausts the address's budget. */
async function limitedServer(): Promise<TestServer> {
  return startServer({
    oneProcess: "counts tokens exactly; with workers a lease may stay unspent on the other (rate-limit-workers.test.ts)",
    env: {
      ADDRESS_RATE_LIMIT_PER_SECOND: "1",
      ADDRESS_RATE_LIMIT_BURST: String(BURST),
      FLOOD_LIMIT_PER_SECOND: "1000000",
      FLOOD_LIMIT_BURST: "1000000",
    },
  });
}

/** The code a subscribe stream with a bad token ends with. */
async function refusedStream(server: TestServer, protocol: Protocol): Promise<Code> {
  const clients = chatClients(server.url, "v4.public.not-a-token", protocol);
  try {
    for await (const frame of clients.messages.subscribeDirectMessages({})) throw new Error(`a frame for a refused token: ${JSON.stringify(frame)}`);
    throw new Error("the stream ended without an error");
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe.each<Protocol>(["grpc", "connect-json", "grpc-web"])("a refused subscribe stream over %s", (protocol) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await limitedServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("costs the address one token", async () => {
    const codes: Code[] = [];
    for (let i = 0; i < 2 * BURST; i++) codes.push(await refusedStream(server, protocol));
    const refusedAsUnauthenticated = codes.filter((c) => c === Code.Unauthenticated).length;
    expect(codes.every((c) => c === Code.Unauthenticated || c === Code.ResourceExhausted), codes.join(" ")).toBe(true);
    // The burst, plus what refilled at 1/s while the calls ran.
    expect(refusedAsUnauthenticated, codes.join(" ")).toBeGreaterThanOrEqual(BURST);
    expect(refusedAsUnauthenticated, codes.join(" ")).toBeLessThanOrEqual(BURST + 3);
  });
});
