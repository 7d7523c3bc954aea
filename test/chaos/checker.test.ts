/**
 * The chaos checker on hand-made records: it must see every kind of violation the chaos suite
 * fails on (a checker that cannot fail proves nothing), and count nothing on a clean record.
 */
import { describe, expect, it } from "vitest";
import { check, type AckedPost, type StoredMessage, type SubscriberView } from "./checker.js";

const room = "room:1";
const stored = (ids: number[]): StoredMessage[] => ids.map((id) => ({ id: String(id), clientMessageId: `k${id}` }));
const acked = (ids: number[], sentAt = (id: number) => id * 10): AckedPost[] =>
  ids.map((id) => ({ clientMessageId: `k${id}`, channel: room, id: String(id), firstSentAt: sentAt(id) }));
const subscriber = (received: number[], segments: SubscriberView["segments"] = [{ since: "", readyAt: 0 }], gaps: SubscriberView["gaps"] = []): SubscriberView => ({
  name: "s",
  channel: room,
  segments,
  received: received.map((id) => ({ id: String(id) })),
  gaps,
});

describe("chaos checker", () => {
  it("counts nothing when every owed message arrived once, in List order", () => {
    const v = check({ acked: acked([1, 2, 3]), history: new Map([[room, stored([1, 2, 3])]]), subscribers: [subscriber([1, 2, 3])] });
    expect(v.subscribers[0]).toMatchObject({ lost: [], duplicated: [], outOfOrder: [], extras: [], unlisted: [], owed: 3 });
    expect(v).toMatchObject({ lostFromStore: [], storedTwice: [] });
  });

  it("owes a fresh stream only what was sent after its Ready", () => {
    const v = check({ acked: acked([1, 2, 3]), history: new Map([[room, stored([1, 2, 3])]]), subscribers: [subscriber([3], [{ since: "", readyAt: 25 }])] });
    expect(v.subscribers[0]).toMatchObject({ owed: 1, lost: [] });
  });

  it("owes a resumed stream everything after its cursor in List order, whenever it was sent", () => {
    // List order 1, 3, 2 (2 was stored last): a resume after 3 is owed 2.
    const v = check({
      acked: acked([1, 2, 3]),
      history: new Map([[room, stored([1, 3, 2])]]),
      subscribers: [subscriber([1, 3], [{ since: "", readyAt: 0 }, { since: "3", readyAt: 40 }])],
    });
    expect(v.subscribers[0]!.lost).toEqual(["2"]);
  });

  it("finds lost, duplicated and out-of-order messages, and extras", () => {
    const v = check({
      acked: acked([1, 2, 3, 4]),
      history: new Map([[room, stored([1, 2, 3, 4, 5])]]),
      subscribers: [subscriber([1, 3, 2, 3, 5])],
    });
    expect(v.subscribers[0]).toMatchObject({ lost: ["4"], duplicated: ["3"], outOfOrder: ["2"], extras: ["5"] });
  });

  it("excuses what a Gap frame said to page, and only that", () => {
    const v = check({
      acked: acked([1, 2, 3, 4]),
      history: new Map([[room, stored([1, 2, 3, 4])]]),
      subscribers: [subscriber([1, 4], [{ since: "", readyAt: 0 }], [{ after: "1", before: "3" }])],
    });
    expect(v.subscribers[0]).toMatchObject({ lost: ["3"], gapExcused: 1 });
  });

  it("finds acknowledged messages missing from the store and keys stored twice", () => {
    const history = new Map([[room, [...stored([1, 2]), { id: "7", clientMessageId: "k1" }]]]);
    const v = check({ acked: acked([1, 2, 3]), history, subscribers: [] });
    expect(v.lostFromStore).toEqual(["3"]);
    expect(v.storedTwice).toEqual(["k1"]);
  });
});
