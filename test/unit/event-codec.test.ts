/**
 * The Kafka record codec (bus/kafka/event-codec.ts) for read states, typing and rooms created: a `rd`, `ty` or `rc`
 * record decodes to what was encoded, for both channel kinds, and a malformed one is skipped
 * (undefined), never thrown; it routes to the control topic (read states keyed by user id, typing
 * by channel, rooms under one key), never to a message topic.
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

describe("typing records", () => {
  const inRoom: LogRecord = { type: "typing", typing: { channel: { kind: "room", id: "12" }, typistId: "7", typistName: "zoë", untilMs: 1_700_000_006_000, stopped: false } };
  const toUser: LogRecord = { type: "typing", typing: { channel: { kind: "user", id: "8" }, typistId: "7", typistName: "zoë", untilMs: 1_700_000_000_000, stopped: true } };

  it("decode to what was encoded, for a room and an inbox", () => {
    for (const record of [inRoom, toUser]) expect(decodeRecord(encodeRecord(record))).toEqual(record);
    expect(JSON.parse(encodeRecord(toUser).toString())).toEqual({ v: RECORD_FORMAT_VERSION, t: "ty", ck: "user", c: "8", s: "7", sn: "zoë", un: 1_700_000_000_000, st: true });
  });

  it("are skipped when malformed", () => {
    const good = JSON.parse(encodeRecord(inRoom).toString()) as Record<string, unknown>;
    for (const broken of [{ ck: "direct" }, { un: "3" }, { st: 0 }, { s: 7 }, { sn: undefined }, { c: null }, { v: RECORD_FORMAT_VERSION + 1 }]) {
      expect(decodeRecord(Buffer.from(JSON.stringify({ ...good, ...broken }))), JSON.stringify(broken)).toBeUndefined();
    }
  });

  it("travel on the control topic, keyed by channel", () => {
    const topics = busTopics("p");
    expect(recordRoute(topics, inRoom)).toEqual({ topic: topics.control, key: "room:12" });
    expect(recordRoute(topics, toUser)).toEqual({ topic: topics.control, key: "user:8" });
  });
});

describe("room_created records", () => {
  const created: LogRecord = { type: "room_created", room: { id: "7340032000000", name: "Général", createdBy: "7", createdAtMs: 1_700_000_000_000 } };

  it("decode to what was encoded", () => {
    expect(decodeRecord(encodeRecord(created))).toEqual(created);
    expect(JSON.parse(encodeRecord(created).toString())).toEqual({ v: RECORD_FORMAT_VERSION, t: "rc", id: "7340032000000", nm: "Général", by: "7", at: 1_700_000_000_000 });
  });

  it("are skipped when malformed", () => {
    const good = JSON.parse(encodeRecord(created).toString()) as Record<string, unknown>;
    for (const broken of [{ id: 7 }, { nm: undefined }, { by: null }, { at: "1" }, { v: RECORD_FORMAT_VERSION + 1 }]) {
      expect(decodeRecord(Buffer.from(JSON.stringify({ ...good, ...broken }))), JSON.stringify(broken)).toBeUndefined();
    }
  });

  it("travel on the control topic under one key, so every node sees new rooms in one order", () => {
    const topics = busTopics("p");
    expect(recordRoute(topics, created)).toEqual({ topic: topics.control, key: "rooms" });
  });
});
