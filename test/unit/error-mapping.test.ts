/**
 * The error catalogue (domain/errors.ts) and its one mapping to the wire (edges/error-mapping.ts):
 * every domain error's Connect code and HTTP status, Retry-After, what is "internal" (logged, never
 * sent), and Connect's own code → status and code → name tables in full.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../src/domain/errors.js";
import { codeName, httpStatusOf, toConnectError } from "../../src/edges/http/error-mapping.js";

const CATALOGUE = [
  { make: (m: string) => new UnauthenticatedError(m), name: "UnauthenticatedError", code: "unauthenticated", connect: Code.Unauthenticated, status: 401 },
  { make: (m: string) => new PermissionDeniedError(m), name: "PermissionDeniedError", code: "permission_denied", connect: Code.PermissionDenied, status: 403 },
  { make: (m: string) => new NotFoundError(m), name: "NotFoundError", code: "not_found", connect: Code.NotFound, status: 404 },
  { make: (m: string) => new AlreadyExistsError(m), name: "AlreadyExistsError", code: "already_exists", connect: Code.AlreadyExists, status: 409 },
  { make: (m: string) => new InvalidArgumentError(m), name: "InvalidArgumentError", code: "invalid_argument", connect: Code.InvalidArgument, status: 400 },
  { make: (m: string) => new ResourceExhaustedError(m), name: "ResourceExhaustedError", code: "resource_exhausted", connect: Code.ResourceExhausted, status: 429 },
  { make: (m: string) => new UnavailableError(m), name: "UnavailableError", code: "unavailable", connect: Code.Unavailable, status: 503 },
] as const;

describe("the domain error catalogue", () => {
  it.each(CATALOGUE)("$name has code $code, its own name, and the message as given", ({ make, name, code }) => {
    const error = make("the room is gone");
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(error.message).toBe("the room is gone");
  });

  it("keeps a cause for the logs", () => {
    const cause = new Error("engine timeout");
    expect(new UnavailableError("store unavailable", { cause }).cause).toBe(cause);
    expect(new UnavailableError("store unavailable").cause).toBeUndefined();
  });

  it("a subclass of a catalogue error is named after itself", () => {
    class TooDeep extends InvalidArgumentError {}
    expect(new TooDeep("x").name).toBe("TooDeep");
    expect(new TooDeep("x").code).toBe("invalid_argument");
  });

  it("ResourceExhaustedError carries Retry-After seconds when known", () => {
    expect(new ResourceExhaustedError("slow down", 3).retryAfterSeconds).toBe(3);
    expect(new ResourceExhaustedError("slow down").retryAfterSeconds).toBeUndefined();
    expect(new ResourceExhaustedError("slow down", 3).message).toBe("slow down");
  });
});

describe("toConnectError", () => {
  it.each(CATALOGUE)("maps $name to its Connect code (HTTP $status), message kept, not internal", ({ make, connect, status }) => {
    const { error, internal } = toConnectError(make("the room is gone"));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(connect);
    expect(error.rawMessage).toBe("the room is gone");
    expect(internal).toBe(false);
    expect(httpStatusOf(error.code)).toBe(status);
    expect(error.metadata.get("retry-after")).toBeNull();
  });

  it("sends Retry-After with a rate limit's seconds, and none when they are unknown", () => {
    expect(toConnectError(new ResourceExhaustedError("slow down", 7)).error.metadata.get("retry-after")).toBe("7");
    expect(toConnectError(new ResourceExhaustedError("slow down", 0)).error.metadata.get("retry-after")).toBe("0");
    expect(toConnectError(new ResourceExhaustedError("slow down")).error.metadata.has("retry-after")).toBe(false);
  });

  it("passes a ConnectError through; only INTERNAL and UNKNOWN ones are internal", () => {
    for (const code of [Code.NotFound, Code.Canceled, Code.DeadlineExceeded, Code.Unavailable]) {
      const given = new ConnectError("as thrown", code);
      expect(toConnectError(given)).toEqual({ error: given, internal: false });
      expect(toConnectError(given).error).toBe(given);
    }
    for (const code of [Code.Internal, Code.Unknown]) {
      const given = new ConnectError("as thrown", code);
      expect(toConnectError(given).error).toBe(given);
      expect(toConnectError(given).internal).toBe(true);
    }
  });

  it.each([new Error("SQLITE_BUSY: database is locked"), new TypeError("x is undefined"), "a string", undefined, { code: "not_found" }])(
    "turns anything else (%s) into INTERNAL with a generic message, keeping the cause for the log only",
    (thrown) => {
      const { error, internal } = toConnectError(thrown);
      expect(internal).toBe(true);
      expect(error.code).toBe(Code.Internal);
      expect(error.rawMessage).toBe("internal error");
      expect(error.message).not.toContain("SQLITE");
      expect(error.cause).toBe(thrown);
      expect(error.details).toEqual([]);
    },
  );
});

describe("Connect's tables", () => {
  const TABLE: [Code, number, string][] = [
    [Code.Canceled, 499, "canceled"],
    [Code.Unknown, 500, "unknown"],
    [Code.InvalidArgument, 400, "invalid_argument"],
    [Code.DeadlineExceeded, 504, "deadline_exceeded"],
    [Code.NotFound, 404, "not_found"],
    [Code.AlreadyExists, 409, "already_exists"],
    [Code.PermissionDenied, 403, "permission_denied"],
    [Code.ResourceExhausted, 429, "resource_exhausted"],
    [Code.FailedPrecondition, 400, "failed_precondition"],
    [Code.Aborted, 409, "aborted"],
    [Code.OutOfRange, 400, "out_of_range"],
    [Code.Unimplemented, 501, "unimplemented"],
    [Code.Internal, 500, "internal"],
    [Code.Unavailable, 503, "unavailable"],
    [Code.DataLoss, 500, "data_loss"],
    [Code.Unauthenticated, 401, "unauthenticated"],
  ];

  it.each(TABLE)("code %i is HTTP %i and is spelled %s", (code, status, name) => {
    expect(httpStatusOf(code)).toBe(status);
    expect(codeName(code)).toBe(name);
  });
});
