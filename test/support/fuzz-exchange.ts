/**
 * One fuzz case over a raw TCP connection: write bytes, read everything the server sends back,
 * and decide when the exchange is over without relying on the server's goodwill — the client
 * half-closes (FIN) when it has nothing more to say, and a deadline bounds a server that
 * neither answers nor closes (itself a finding: a connection held forever).
 */
import { connect, type Socket } from "node:net";

export interface Exchange {
  /** Everything the server sent. */
  readonly data: Buffer;
  /** How the connection ended: "closed" (FIN or RST from either side after our FIN) or "deadline". */
  readonly ended: "closed" | "deadline" | "done";
  /** A socket error (ECONNRESET: the server reset the connection; ECONNREFUSED: no server). */
  readonly error?: string;
}

export interface ExchangeScript {
  /** Called once connected; writes the case's bytes (may wait for the server in between). */
  run(socket: Socket, received: () => Buffer, waitFor: (ready: (data: Buffer) => boolean, quietMs: number) => Promise<boolean>): Promise<void>;
  /** When the answer so far suffices (e.g. an HTTP status line arrived): stop reading and destroy. */
  readonly enough?: (data: Buffer) => boolean;
}

/** Runs one exchange on 127.0.0.1:port within `deadlineMs`. */
export function exchange(port: number, script: ExchangeScript, deadlineMs = 10_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const wakers = new Set<() => void>();
    const received = () => Buffer.concat(chunks);
    const finish = (ended: Exchange["ended"]) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve({ data: received(), ended, ...(error === undefined ? {} : { error }) });
    };
    const deadline = setTimeout(() => finish("deadline"), deadlineMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (script.enough?.(received())) finish("done");
      for (const wake of wakers) wake();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => {
      for (const wake of wakers) wake();
      finish("closed");
    });
    // The server half-closed: nothing more will come.
    socket.on("end", () => socket.end());
    /**
     * Waits until `ready(data)` holds or the connection closes (true), or until nothing arrived
     * for `quietMs` (false): the server is waiting for more than the case sends.
     */
    const waitFor = (ready: (data: Buffer) => boolean, quietMs: number) =>
      new Promise<boolean>((resolveWait) => {
        let quiet: NodeJS.Timeout;
        const check = () => {
          if (settled || socket.destroyed || ready(received())) {
            done(true);
            return;
          }
          clearTimeout(quiet);
          quiet = setTimeout(() => done(false), quietMs);
        };
        const done = (value: boolean) => {
          clearTimeout(quiet);
          wakers.delete(check);
          resolveWait(value);
        };
        wakers.add(check);
        check();
      });
    socket.once("connect", () => {
      script
        .run(socket, received, waitFor)
        .then(() => {
          if (!socket.destroyed && !settled) socket.end();
        })
        .catch((e: unknown) => {
          error ??= String(e);
          finish("closed");
        });
    });
  });
}

/** Writes `bytes`, resolving once they are handed to the kernel (or the socket is gone). */
export function write(socket: Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve();
    socket.write(bytes, () => resolve());
  });
}

/** The status codes of the HTTP/1.1 responses at the start of `data` (100 Continue included). */
export function httpStatuses(data: Buffer): number[] {
  const text = data.toString("latin1");
  return [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g)].map((m) => Number(m[1]));
}

/** The first final (non-1xx) status of an HTTP/1.1 answer, once its status line is complete. */
export function finalStatus(data: Buffer): number | undefined {
  return httpStatuses(data).find((s) => s >= 200);
}

/** True once the head (status line and headers) of the first final response has arrived. */
export function finalHeadComplete(data: Buffer): boolean {
  const text = data.toString("latin1");
  const at = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].find((m) => Number(m[1]) >= 200)?.index;
  return at !== undefined && text.indexOf("\r\n\r\n", at) >= 0;
}

/** Where the HTTP head ends (after "\r\n\r\n"), or -1. */
export function headEnd(data: Buffer): number {
  const at = data.indexOf("\r\n\r\n");
  return at < 0 ? -1 : at + 4;
}
