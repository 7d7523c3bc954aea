/**
 * What "refuses cleanly" means for a parser of client input: whatever it throws is answered as a
 * 4xx — a typed domain error (RestDecodeError, InvalidArgumentError…), an HttpError with a 4xx
 * status, or a ConnectError whose code maps to a 4xx — through the one mapping every edge uses
 * (edges/http/http-failure.ts → edges/error-mapping.ts). Anything else (a TypeError, a
 * RangeError from a stack overflow, a ConnectError INTERNAL) would reach the client as a 500 or
 * kill the socket's process, and is a bug.
 */
import { fc } from "@fast-check/vitest";
import { describeFailure } from "../../src/edges/http/http-failure.js";

/** Why `error` is not a clean refusal, or undefined when it is one. */
export function refusalProblem(error: unknown): string | undefined {
  const failure = describeFailure(error);
  if (failure.status >= 400 && failure.status < 500) return undefined;
  const what = error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}` : String(error);
  return `answered ${failure.status} ${failure.code}, not a 4xx: ${what}`;
}

/** Throws (failing the property, with the input named) unless `error` is a clean refusal. */
export function assertCleanRefusal(error: unknown, input: string): void {
  const problem = refusalProblem(error);
  if (problem !== undefined) throw new Error(`${problem}\n  input: ${preview(input)}`, { cause: error });
}

/**
 * Runs `parse`; returns its result, or undefined when it refused cleanly. Fails (naming the input)
 * when it threw anything that is not a clean refusal.
 */
export function parsesOrRefuses<T>(input: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    assertCleanRefusal(error, input);
    return undefined;
  }
}

/** An input shortened for a failure message: long (deep) inputs show their start, end and size. */
export function preview(input: string, max = 400): string {
  const json = JSON.stringify(input);
  return json.length <= max ? json : `${json.slice(0, max / 2)}…(${input.length} chars)…${json.slice(-max / 4)}`;
}

/**
 * A fuzz input that fast-check prints shortened (see `preview`) in a counterexample, so a
 * 40,000-level JSON text does not flood the CI log. The full text is reproducible from the seed.
 */
export class FuzzText {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return preview(this.text);
  }
}

/** The same for raw bytes, delivered in chunks. */
export class FuzzBytes {
  constructor(readonly chunks: readonly Buffer[]) {}
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  [fc.toStringMethod](): string {
    return `${this.chunks.length} chunk(s): ${preview(this.bytes.toString("latin1"))}`;
  }
}
