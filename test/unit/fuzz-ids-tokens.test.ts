/**
 * Property-based tests of ids, cursors, names and page tokens (issue #11, item 11): ids compare
 * like their integer values whatever their length, every id the proto's rules accept fits the
 * store's 64-bit integer and orders like its value, snowflake ids carry their time, names
 * normalise idempotently, and page tokens round-trip and cannot be altered into another cursor.
 * Seeded and bounded: see test/support/fuzz-seed.ts (FUZZ_SEED, FUZZ_RUNS).
 */
import { create } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { ListDirectMessagesRequestSchema, ListMessagesRequestSchema, SubscribeRoomRequestSchema } from "../../gen/chat/v1/message_pb.js";
import { GetRoomRequestSchema } from "../../gen/chat/v1/room_pb.js";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { bucketOf, BUCKET_MS, compareIds, idTimeMs, minIdAt, PARLEY_EPOCH_MS, SnowflakeGenerator } from "../../src/domain/ids.js";
import { displayForm, messageText, roomName, uniquenessKey } from "../../src/domain/names.js";
import { PageTokens } from "../../src/services/page-tokens.js";
import { propertyParameters } from "../support/fuzz-seed.js";

const INT64_MAX = (1n << 63n) - 1n;
const EPOCH = Number(PARLEY_EPOCH_MS);
/** The last millisecond a 41-bit snowflake can carry. */
const LAST_MS = EPOCH + 2 ** 41 - 1;

/** A canonical decimal id (no leading zero) of 1–19 digits, mostly 17–19 like real ones, within int64. */
const canonicalId = fc
  .oneof(
    { weight: 3, arbitrary: fc.bigInt({ min: 10n ** 16n, max: INT64_MAX }) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 16n }) },
  )
  .map(String);

/** Id text a client may send: canonical ids, zero-padded ones, 20-digit and longer ones. */
const clientId = fc.oneof(
  canonicalId,
  fc.tuple(fc.integer({ min: 1, max: 4 }), canonicalId).map(([zeros, id]) => `${"0".repeat(zeros)}${id}`.slice(-20)),
  fc.bigInt({ min: INT64_MAX - 1000n, max: 10n ** 20n - 1n }).map(String),
  fc.stringMatching(/^[0-9]{1,22}$/),
);

const validator = createValidator();
/** True when the proto's rules accept `id` as a room id, a `since` cursor and the list cursors. */
function protoAcceptsId(id: string): boolean {
  return [
    validator.validate(GetRoomRequestSchema, create(GetRoomRequestSchema, { roomId: id })),
    validator.validate(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId: "1", since: id })),
    validator.validate(ListMessagesRequestSchema, create(ListMessagesRequestSchema, { roomId: "1", before: id, after: id })),
    validator.validate(ListDirectMessagesRequestSchema, create(ListDirectMessagesRequestSchema, { withUserId: id })),
  ].some((result) => result.kind === "valid");
}

describe("ids and cursors (property-based)", () => {
  test.prop([canonicalId, canonicalId], propertyParameters(2_000))("compareIds orders canonical ids of mixed lengths like their integer values", (a, b) => {
    expect(Math.sign(compareIds(a, b))).toBe(Math.sign(Number(BigInt(a) - BigInt(b))));
  });

  test.prop([clientId], propertyParameters(1_000))(
    "every id the proto's rules accept fits the store's signed 64-bit integer (issue #11 item 6)",
    (id) => {
      if (!protoAcceptsId(id)) return;
      if (BigInt(id) > INT64_MAX) throw new Error(`the proto accepts id ${id}, above int64 max ${INT64_MAX}: the store cannot hold it (a 500)`);
    },
  );

  test.prop([clientId, canonicalId], propertyParameters(1_000))(
    "every id the proto's rules accept compares like its integer value with the ids the server issues (a zero-padded `since` drops live messages: fuzz-findings.test.ts)",
    (cursor, issued) => {
      if (!protoAcceptsId(cursor)) return;
      const byValue = Math.sign(Number(BigInt(cursor) - BigInt(issued)));
      const byCompareIds = Math.sign(compareIds(cursor, issued));
      if (byValue !== byCompareIds) {
        throw new Error(
          `the proto accepts cursor "${cursor}" (= ${BigInt(cursor)}), but compareIds orders it ${byCompareIds < 0 ? "before" : "after"} issued id ${issued} ` +
            "(live-stream.ts compares a subscriber's `since` position with compareIds: live messages would be dropped or repeated)",
        );
      }
    },
  );

  test.prop(
    [fc.integer({ min: EPOCH, max: LAST_MS - 10_000 }), fc.integer({ min: 0, max: 1023 }), fc.array(fc.integer({ min: -2_000, max: 3 }), { minLength: 1, maxLength: 50 })],
    propertyParameters(500),
  )("snowflake ids increase, carry their time and compare like their values, even when the clock steps back", (start, worker, steps) => {
    let now = start;
    const gen = new SnowflakeGenerator(worker, () => now);
    let previous: string | undefined;
    let latest = start;
    for (const step of steps) {
      now = Math.max(EPOCH, now + step);
      latest = Math.max(latest, now);
      const id = gen.next();
      if (previous !== undefined) {
        expect(compareIds(previous, id)).toBeLessThan(0);
        expect(BigInt(previous) < BigInt(id)).toBe(true);
      }
      // The generator keeps its last millisecond when the clock steps back (and may borrow the next).
      expect(idTimeMs(id)).toBeGreaterThanOrEqual(now);
      expect(idTimeMs(id)).toBeLessThanOrEqual(latest + 1);
      expect(compareIds(minIdAt(idTimeMs(id)), id)).toBeLessThanOrEqual(0);
      expect(bucketOf(id)).toBe(Math.floor((idTimeMs(id) - EPOCH) / BUCKET_MS));
      previous = id;
    }
  });
});

describe("names (property-based)", () => {
  const text = fc.oneof(fc.string({ unit: "grapheme", maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom(" ", "\u3000\t", "Ge\u0301ne\u0301ral", "GÉNÉRAL", "ß", "İ"));

  test.prop([text], propertyParameters(1_000))("displayForm and uniquenessKey are idempotent; NFC and NFD spellings share a key", (name) => {
    expect(displayForm(displayForm(name))).toBe(displayForm(name));
    expect(uniquenessKey(uniquenessKey(name))).toBe(uniquenessKey(name));
    expect(uniquenessKey(name.normalize("NFD"))).toBe(uniquenessKey(name));
    expect(uniquenessKey(name.normalize("NFC"))).toBe(uniquenessKey(name));
  });

  test.prop([fc.stringMatching(/^[A-Za-z0-9 _.-]{1,20}$/)], propertyParameters(500))("ASCII names differing only in case share a key", (name) => {
    expect(uniquenessKey(name.toUpperCase())).toBe(uniquenessKey(name.toLowerCase()));
  });

  test.prop([text], propertyParameters(1_000))("room names and message texts are accepted or refused with InvalidArgumentError", (raw) => {
    for (const parse of [() => roomName(raw), () => messageText(raw)]) {
      try {
        parse();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
      }
    }
  });
});

describe("page tokens (property-based)", () => {
  const tokens = new PageTokens(Buffer.from("page-token-secret-for-the-fuzz-tests"));
  const otherKey = new PageTokens(Buffer.from("another-secret"));
  const cursor = fc.oneof(canonicalId, fc.stringMatching(/^[0-9]{1,20}$/));

  /** decode, with any failure other than InvalidArgumentError turned into a failed property. */
  function decodeOrRefuse(token: string): string | undefined | "refused" {
    try {
      return tokens.decode(token);
    } catch (error) {
      if (error instanceof InvalidArgumentError) return "refused";
      throw new Error(`decode(${JSON.stringify(token)}) threw ${String(error)}, not InvalidArgumentError`);
    }
  }

  test.prop([cursor], propertyParameters(1_000))("round trip: decode(encode(c)) = c, and another key's token is refused", (c) => {
    expect(tokens.decode(tokens.encode(c))).toBe(c);
    expect(() => tokens.decode(otherKey.encode(c))).toThrow(InvalidArgumentError);
  });

  test.prop([cursor, fc.nat(), fc.integer({ min: 0, max: 7 })], propertyParameters(2_000))(
    "flipping any bit of a token's content (cursor, separator or MAC) is refused",
    (c, at, bit) => {
      const content = Buffer.from(tokens.encode(c), "base64url");
      content[at % content.length]! ^= 1 << bit;
      const altered = content.toString("base64url");
      expect(decodeOrRefuse(altered), `altered token ${altered} (content ${JSON.stringify(content.toString("latin1"))})`).toBe("refused");
    },
  );

  test.prop([cursor, fc.nat(), fc.integer({ min: 0, max: 7 })], propertyParameters(2_000))(
    "flipping any bit of any byte of the token text is refused, or at most decodes to the same cursor (never another one)",
    (c, at, bit) => {
      const token = Buffer.from(tokens.encode(c), "latin1");
      token[at % token.length]! ^= 1 << bit;
      const result = decodeOrRefuse(token.toString("latin1"));
      if (result !== "refused") expect(result).toBe(c);
    },
  );

  test.prop([fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.base64String({ maxLength: 80 }), cursor.map((c) => Buffer.from(`${c}.${"A".repeat(22)}`).toString("base64url")))], propertyParameters(2_000))(
    "made-up tokens are refused with InvalidArgumentError (or are the empty first-page token)",
    (token) => {
      const result = decodeOrRefuse(token);
      if (token === "") expect(result).toBeUndefined();
      else expect(result).toBe("refused");
    },
  );
});
