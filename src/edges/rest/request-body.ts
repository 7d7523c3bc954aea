/**
 * Reading a REST request body: bounded in size and time, JSON only, UTF-8 only. Every refusal
 * is an HttpError with a 4xx status, so hostile bodies never reach a parser or a service.
 */
import type { IncomingMessage } from "node:http";
import { InvalidArgumentError } from "../../domain/errors.js";
import { hasLoneSurrogate } from "../http/client-json.js";
import { parseJsonBody } from "./request-codec.js";
import { HttpError } from "../http/http-failure.js";

/** Bounds on one request body. */
export interface BodyLimits {
  readonly maxBytes: number;
  /** The whole body must arrive within this time (slow-body attacks). */
  readonly timeoutMs: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
/**
 * After a 413, the body is read and thrown away up to this many bytes, so the client can finish
 * sending and read the answer on a connection that stays usable; past it (or past the time
 * limit) the request is destroyed.
 */
const DISCARD_BYTES = 16 * 1024 * 1024;

/**
 * The body as text; "" when there is none. Throws HttpError 413 past `maxBytes` (before
 * reading, when Content-Length says so), 415 when a non-empty body is not application/json
 * (charset, if given, must be UTF-8), 400 when it is not valid UTF-8, 408 when it is too slow.
 */
export async function readJsonText(req: IncomingMessage, limits: BodyLimits): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(req, limits, declared, 0);
  const bytes = await collect(req, limits);
  if (bytes.length === 0) return "";
  const type = req.headers["content-type"];
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new HttpError(415, "invalid_argument", "request body must be application/json (UTF-8)", { accept: "application/json" });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_argument", "request body is not valid UTF-8");
  }
}

/**
 * The body parsed as JSON (undefined when there is none), after readJsonText's checks. Throws
 * RestDecodeError (400) for malformed JSON or JSON nested deeper than MAX_JSON_DEPTH, and
 * InvalidArgumentError (400) for a string holding an unpaired surrogate (`"\ud800"`), which is
 * not Unicode text and cannot be stored as sent.
 */
export async function readJson(req: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  const body = parseJsonBody(await readJsonText(req, limits));
  if (hasLoneSurrogate(body)) throw new InvalidArgumentError("request body has a string that is not valid Unicode (unpaired surrogate)");
  return body;
}

function collect(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      cleanup();
      reject(new HttpError(408, "deadline_exceeded", "request body took too long to arrive", closeConnection(req)));
    }, limits.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limits.maxBytes) return void chunks.push(chunk);
      cleanup();
      reject(tooLarge(req, limits, Number.NaN, size));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(new HttpError(400, "invalid_argument", "request body could not be read"));
    };
    const cleanup = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
  });
}

/**
 * The 413, after arranging for the rest of the body to be read and discarded (so the client can
 * finish sending and read the answer) up to DISCARD_BYTES or the time limit; past either, the
 * request is destroyed. A declared body beyond that bound also closes an HTTP/1.1 connection.
 */
function tooLarge(req: IncomingMessage, limits: BodyLimits, declared: number, alreadyRead: number): HttpError {
  let discarded = alreadyRead;
  const timer = setTimeout(() => req.destroy(), limits.timeoutMs);
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_BYTES) req.destroy();
  });
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  req.resume();
  const headers = declared > DISCARD_BYTES ? closeConnection(req) : {};
  return new HttpError(413, "resource_exhausted", `request body is larger than ${limits.maxBytes} bytes`, headers);
}

/** Headers that end an HTTP/1.1 connection after the answer (HTTP/2 has no such header). */
function closeConnection(req: IncomingMessage): Record<string, string> {
  return req.httpVersionMajor === 1 ? { connection: "close" } : {};
}
