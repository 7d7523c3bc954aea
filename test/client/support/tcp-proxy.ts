/**
 * A TCP proxy between a client and the server that a test can break: cut every connection,
 * refuse new ones, or stall them silently (a dead connection: nothing arrives, nothing closes).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** http://127.0.0.1:<port> of the proxy. */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Destroys every open connection (both sides), as a dropped network would. */
  cut(): void;
  /** From now on new connections are reset as soon as they arrive; open ones are cut. */
  refuse(): void;
  /** Open connections stop carrying bytes (both ways) without closing; new ones work. */
  stall(): void;
  /** New connections are forwarded again (after refuse). */
  accept(): void;
  /**
   * The next `n` chunks from the server that `match` are never delivered: their connection is cut
   * instead — the server did the work, the client never hears the answer. Returns how many were dropped so far.
   */
  dropAnswers(n: number, match: (chunk: Buffer) => boolean, onDrop?: () => void): void;
  readonly droppedAnswers: () => number;
  close(): Promise<void>;
}

/** Starts a proxy on a random loopback port forwarding to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ client: Socket; upstream: Socket }>();
  const stalled = new Set<{ client: Socket; upstream: Socket }>();
  let refusing = false;
  let accepted = 0;
  let toDrop = 0;
  let dropped = 0;
  let dropMatch: (chunk: Buffer) => boolean = () => false;
  let onDropped: (() => void) | undefined;
  const server: Server = createServer((client) => {
    if (refusing) return void client.resetAndDestroy();
    accepted++;
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    const pair = { client, upstream };
    open.add(pair);
    const end = (): void => {
      open.delete(pair);
      stalled.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (toDrop > 0 && dropMatch(chunk)) {
        toDrop--;
        dropped++;
        end();
        return onDropped?.();
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once("drain", () => upstream.resume());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const cut = (): void => {
    for (const { client, upstream } of [...open]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accepted: () => accepted,
    cut,
    refuse() {
      refusing = true;
      cut();
    },
    stall() {
      for (const pair of open) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.removeAllListeners("data");
        pair.client.pause();
        pair.upstream.pause();
        stalled.add(pair);
      }
      // Stalled pairs stay open and silent until a peer gives up on them (or the proxy closes).
      open.clear();
    },
    accept() {
      refusing = false;
    },
    dropAnswers(n, match, onDrop) {
      toDrop = n;
      dropMatch = match;
      onDropped = onDrop;
    },
    droppedAnswers: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        for (const { client, upstream } of stalled) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
