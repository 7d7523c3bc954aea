/**
 * The lean bench subscribers' wire reading: envelopes split across chunks or packed several to
 * a chunk come out whole and in order, and the protobuf walk finds the frame case and the
 * message text exactly where protobuf-es puts them.
 */
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubscribeRoomResponseSchema } from "../../gen/chat/v1/message_pb.js";
import { envelope, EnvelopeReader } from "../../bench/load/clients/envelopes.js";
import {
  FRAME_GAP,
  FRAME_HEARTBEAT,
  FRAME_MALFORMED,
  FRAME_MESSAGE,
  FRAME_READY,
  readFrame,
  type TextRange,
} from "../../bench/load/clients/subscribe-frames.js";

function frameBytes(frame: Parameters<typeof create<typeof SubscribeRoomResponseSchema>>[1]): Buffer {
  return Buffer.from(toBinary(SubscribeRoomResponseSchema, create(SubscribeRoomResponseSchema, frame)));
}

describe("EnvelopeReader", () => {
  const payloads = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from("last")];
  const body = Buffer.concat(payloads.map((p) => envelope(p)));

  for (const size of [1, 2, 5, 6, 7, 100, body.length]) {
    it(`reads every envelope from chunks of ${size} bytes`, () => {
      const seen: string[] = [];
      const reader = new EnvelopeReader((flags, bytes, start, end) => seen.push(`${flags}:${bytes.toString("hex", start, end)}`));
      for (let at = 0; at < body.length; at += size) reader.push(body.subarray(at, at + size));
      expect(seen).toEqual(payloads.map((p) => `0:${p.toString("hex")}`));
      expect(reader.partial).toBe(false);
    });
  }

  it("knows a body that stops inside an envelope, and refuses an oversized one", () => {
    const reader = new EnvelopeReader(() => {});
    reader.push(body.subarray(0, 8));
    expect(reader.partial).toBe(true);
    expect(() => new EnvelopeReader(() => {}).push(Buffer.from([0, 0x7f, 0, 0, 0]))).toThrow(/envelope of/);
  });
});

describe("readFrame", () => {
  const text: TextRange = { start: 0, end: 0 };

  it("finds a message's text among its other fields", () => {
    const bytes = frameBytes({
      frame: {
        case: "message",
        value: {
          messageId: "123456789",
          target: { case: "roomId", value: "42" },
          sender: { userId: "7", username: "ann" },
          text: "@@b1.2.3.xxxx é",
          createdAt: { seconds: 1n, nanos: 5 },
          clientMessageId: "k",
        },
      },
    });
    const padded = Buffer.concat([Buffer.from([9, 9]), bytes, Buffer.from([9])]);
    expect(readFrame(padded, 2, 2 + bytes.length, text)).toBe(FRAME_MESSAGE);
    expect(padded.toString("utf8", text.start, text.end)).toBe("@@b1.2.3.xxxx é");
  });

  it("tells ready, heartbeat and gap frames apart", () => {
    const cases = [
      [{ frame: { case: "ready", value: { position: "99" } } }, FRAME_READY],
      [{ frame: { case: "heartbeat", value: {} } }, FRAME_HEARTBEAT],
      [{ frame: { case: "gap", value: {} } }, FRAME_GAP],
    ] as const;
    for (const [frame, kind] of cases) {
      const bytes = frameBytes(frame as Parameters<typeof frameBytes>[0]);
      expect(readFrame(bytes, 0, bytes.length, text)).toBe(kind);
    }
  });

  it("calls truncated bytes malformed", () => {
    const bytes = frameBytes({ frame: { case: "message", value: { text: "@@b1.2.3." } } });
    expect(readFrame(bytes, 0, bytes.length - 1, text)).toBe(FRAME_MALFORMED);
  });
});
