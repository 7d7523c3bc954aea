/**
 * Every driver failure that means "Cassandra could not be reached or did not answer" becomes
 * UNAVAILABLE (HTTP 503) and is logged at warn, once per outage — never INTERNAL, never an
 * error-level line. The errors are the driver's own classes, built as the driver builds them.
 */
import cassandra from "cassandra-driver";
import { Code } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { httpStatusOf, toConnectError } from "../../src/edges/http/error-mapping.js";
import { toStoreError } from "../../src/store/cassandra/cassandra-errors.js";
import { OutageLog } from "../../src/store/cassandra/outage-log.js";

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

/** The typings call DriverError abstract; the driver itself makes plain ones (connection.js, writers.js). */
const DriverError = errors.DriverError as unknown as new (message: string) => Error;

/** What connection.js rejects every pending request with when a connection closes or is declared dead. */
function socketWasClosed(): Error {
  const error = new DriverError("Socket was closed") as Error & { isSocketError?: boolean };
  error.isSocketError = true;
  return error;
}

const unreachable: ReadonlyArray<readonly [string, () => Error]> = [
  ["a client-side timeout", () => new errors.OperationTimedOutError("The host 127.0.0.1:9042 did not reply before timeout 1500 ms", "127.0.0.1:9042")],
  ["no host available", () => new errors.NoHostAvailableError({ "127.0.0.1:9042": new errors.OperationTimedOutError("no reply", "127.0.0.1:9042") })],
  ["a host considered down", () => new errors.NoHostAvailableError({ "127.0.0.1:9042": "Host considered as DOWN" })],
  ["the socket was closed", socketWasClosed],
  ["every connection busy", () => new errors.BusyConnectionError("127.0.0.1:9042", 2048, 1)],
  ["unavailable replicas", () => new errors.ResponseError(codes.unavailableException, "Cannot achieve consistency level LOCAL_QUORUM")],
  ["an overloaded coordinator", () => new errors.ResponseError(codes.overloaded, "overloaded")],
  ["a bootstrapping node", () => new errors.ResponseError(codes.isBootstrapping, "bootstrapping")],
  ["a server-side read timeout", () => new errors.ResponseError(codes.readTimeout, "Operation timed out - received only 0 responses")],
  ["a server-side write timeout", () => new errors.ResponseError(codes.writeTimeout, "Operation timed out - received only 0 responses")],
];

const faults: ReadonlyArray<readonly [string, () => Error]> = [
  ["a syntax error", () => new errors.ResponseError(codes.syntaxError, "line 1:0 no viable alternative")],
  ["an invalid query", () => new errors.ResponseError(codes.invalid, "Undefined column name x")],
  ["a driver argument error", () => new errors.ArgumentError("Queries should be an Array")],
  ["a plain driver error without the socket mark", () => new DriverError("something else")],
  ["a bug", () => new TypeError("x is undefined")],
];

describe("toStoreError", () => {
  it.each(unreachable)("maps %s to UnavailableError → UNAVAILABLE / 503, keeping the driver error as cause", (_, make) => {
    const driverError = make();
    const mapped = toStoreError(driverError, "find user");
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect((mapped as UnavailableError).message).toMatch(/^the message store is unavailable \(find user\): .+; try again$/);
    expect((mapped as UnavailableError).cause).toBe(driverError);
    const wire = toConnectError(mapped);
    expect(wire.error.code).toBe(Code.Unavailable);
    expect(wire.internal).toBe(false);
    expect(httpStatusOf(wire.error.code)).toBe(503);
  });

  it.each(faults)("passes %s through unchanged (a server fault: INTERNAL, logged)", (_, make) => {
    const error = make();
    expect(toStoreError(error, "find user")).toBe(error);
    expect(toConnectError(error).internal).toBe(true);
  });
});

describe("OutageLog", () => {
  function capture() {
    const lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
    const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { lines, logger };
  }

  it("logs an outage at warn once per 10 s with the failures in between, its end at info, nothing at error", () => {
    const { lines, logger } = capture();
    let now = 1_000;
    const log = new OutageLog(logger, () => now);
    log.succeeded();
    expect(lines).toEqual([]);
    for (let i = 0; i < 50; i++) {
      log.failed(socketWasClosed(), "append message");
      now += 100;
    }
    // 5 s in: one line so far; at 10 s past the first line, a second one counting the rest.
    expect(lines.map((l) => l.level)).toEqual([40]);
    now = 11_000;
    log.failed(new errors.NoHostAvailableError({}), "find room");
    expect(lines.map((l) => [l.level, l.failuresSinceLastLine])).toEqual([[40, undefined], [40, 49]]);
    now = 12_500;
    log.succeeded();
    log.succeeded();
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: "cassandra answers again", failures: 51, outageMs: 11_500 });
    expect(lines).toHaveLength(3);
    // A new outage starts its own count.
    log.failed(socketWasClosed(), "find user");
    log.succeeded();
    expect(lines.at(-1)).toMatchObject({ level: 30, failures: 1 });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
