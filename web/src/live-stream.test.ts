import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SubscribeRoomResponseSchema } from "../../gen/chat/v1/message_pb.js";
import { MessageSchema, ReadySchema } from "../../gen/chat/v1/types_pb.js";
import { compareIds, maxId } from "./ids.js";
import { backoffDelay, maxBackoffMs, startLiveStream, type LinkState, type StreamFrame } from "./live-stream.js";

const ready = (position: string): StreamFrame =>
  create(SubscribeRoomResponseSchema, { frame: { case: "ready", value: create(ReadySchema, { position }) } });
const message = (messageId: string): StreamFrame =>
  create(SubscribeRoomResponseSchema, { frame: { case: "message", value: create(MessageSchema, { messageId, text: messageId }) } });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when the signal aborts, then throws like an aborted fetch. */
async function* hangUntil(signal: AbortSignal): AsyncGenerator<StreamFrame> {
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
  throw new ConnectError("aborted", Code.Canceled);
}

describe("startLiveStream", () => {
  it("resumes after a drop with since = the last message id, and reports the state", async () => {
    const sinces: string[] = [];
    const states: LinkState[] = [];
    const seen: string[] = [];
    const resumed = deferred();
    const stream = startLiveStream({
      open: async function* (since, signal) {
        sinces.push(since);
        if (sinces.length === 1) {
          yield ready("0");
          yield message("18446744073709551000");
          yield message("18446744073709551001");
          throw new ConnectError("connection reset", Code.Unavailable);
        }
        yield ready(since);
        yield message("18446744073709551002");
        resumed.resolve();
        yield* hangUntil(signal);
      },
      onMessage: (m) => seen.push(m.messageId),
      onState: (s) => states.push(s),
    });
    await resumed.promise;
    expect(sinces).toEqual(["", "18446744073709551001"]);
    expect(seen).toEqual(["18446744073709551000", "18446744073709551001", "18446744073709551002"]);
    expect(states).toEqual(["connecting", "connected", "reconnecting", "connected"]);
    expect(stream.cursor).toBe("18446744073709551002");
    stream.stop();
  });

  it("reconnects when the server ends the stream cleanly", async () => {
    let opens = 0;
    const second = deferred();
    const stream = startLiveStream({
      since: "7",
      open: async function* (since, signal) {
        if (++opens === 2) {
          expect(since).toBe("9");
          second.resolve();
          yield* hangUntil(signal);
        }
        yield ready(since);
        yield message("9");
      },
      onMessage: () => {},
    });
    await second.promise;
    stream.stop();
  });

  it("stops for good when the token is rejected", async () => {
    let opens = 0;
    const lost = deferred();
    startLiveStream({
      open: async function* () {
        opens++;
        throw new ConnectError("token revoked", Code.Unauthenticated);
      },
      onMessage: () => {},
      onAuthLost: () => lost.resolve(),
    });
    await lost.promise;
    await new Promise((r) => setTimeout(r, 400));
    expect(opens).toBe(1);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially, is capped, and is jittered in [d/2, d)", () => {
    expect(backoffDelay(0, () => 0)).toBe(125);
    expect(backoffDelay(3, () => 0.999)).toBeLessThan(2000);
    expect(backoffDelay(50, () => 0)).toBe(maxBackoffMs / 2);
    expect(backoffDelay(50, () => 1)).toBe(maxBackoffMs);
  });
});

describe("ids", () => {
  it("compares 64-bit decimal ids numerically", () => {
    expect(compareIds("9", "10")).toBeLessThan(0);
    expect(compareIds("18446744073709551615", "18446744073709551614")).toBeGreaterThan(0);
    expect(compareIds("", "0")).toBeLessThan(0);
    expect(maxId("", "5")).toBe("5");
  });
});
