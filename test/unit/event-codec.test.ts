/**
 * The Kafka record codec (bus/kafka/event-codec.ts) for read states: a `rd` record decodes to what
 * was encoded, for both channel kinds, and a malformed one is skipped (undefined), never thrown;
 * it routes to the control topic keyed by user id, never to a message topic.
 */
import { describe, expect, it } from "vitest";
import { type LogRecord, RECORD_FORMAT_VERSION, decodeRecord, encodeRecord } from "../../src/bus/kafka/event-codec.js";
import { busTopics, recordRoute } from "../../src/bus/kafka/topics.js";

const room: LogRecord = {
  type: "read",
  userId: "7",
  state: { channel: { kind: "room", id: "12" }, lastReadMessageId: "9223372036854775807", unreadCount: 100, moreUnread: true },
};
const direct: LogRecord = {
  type: "read",
  userId: "7",
  state: { channel: { kind: "direct", withUserId: "8" }, lastReadMessageId: "0", unreadCount: 0, moreUnread: false },
};

describe("read records", () => {
  it("decode to what was encoded, for a room and a conversation", () => {
    for (const record of [room, direct]) expect(decodeRecord(encodeRecord(record))).toEqual(record);
    expect(JSON.parse(encodeRecord(direct).toString())).toEqual({ v: RECORD_FORMAT_VERSION, t: "rd", u: "7", ck: "direct", c: "8", lr: "0", uc: 0, mu: false });
  });

  it("are skipped when malformed", () => {
    const good = JSON.parse(encodeRecord(room).toString()) as Record<string, unknown>;
    for (const broken of [{ ck: "user" }, { uc: "3" }, { mu: 1 }, { u: 7 }, { lr: undefined }, { c: null }]) {
      expect(decodeRecord(Buffer.from(JSON.stringify({ ...good, ...broken }))), JSON.stringify(broken)).toBeUndefined();
    }
  });

  it("travel on the control topic, keyed by user id", () => {
    const topics = busTopics("p");
    expect(recordRoute(topics, room)).toEqual({ topic: topics.control, key: "7" });
    expect(recordRoute(topics, { type: "token_revoked", tokenId: "t1", expiresAtMs: 1 })).toEqual({ topic: topics.control, key: "t1" });
  });
});
