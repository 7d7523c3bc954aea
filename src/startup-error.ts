/**
 * Start-up failures an operator fixes in the environment — a port already taken, a HOST that is
 * not this machine's — reported as one line naming the variable, with no stack (a stack says
 * nothing the line does not). main.ts prints them; anything else is a bug or an outage and keeps
 * its stack.
 */
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";

/** A start-up failure whose message says all: printed as one line, exit 1. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** The StartupError for a listen() failure the operator can fix, else the error itself. */
export function listenFailure(error: unknown, config: Pick<Config, "host" | "port">): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `port ${config.port} on ${config.host}`;
  switch (code) {
    case "EADDRINUSE":
      return new StartupError(`${where} is already in use: stop what listens there, or set PORT to another port`);
    case "EACCES":
      return new StartupError(`no permission to listen on ${where}: ports below 1024 need privileges; set PORT to another port`);
    case "EADDRNOTAVAIL":
      return new StartupError(`HOST=${config.host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new StartupError(`HOST=${config.host} does not resolve: set HOST to an address of this machine, or 0.0.0.0`);
    default:
      return error;
  }
}

/** What to print (after "parley: ") for a failed start: the message of an operator's error, else the stack. */
export function startFailureText(error: unknown): string {
  if (error instanceof StartupError || error instanceof ConfigError) return error.message;
  return `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}
