/**
 * Lean Connect-protocol subscribers over HTTP/1.1 (binary, application/connect+proto): one
 * connection per subscription, from a keep-alive agent bound to the user's source address. The
 * request is one envelope; the response envelopes are read as they arrive, and the stream ends
 * with an end-stream envelope (flag 0x02) holding `{}` or `{"error": …}`. No general-purpose
 * client stack decodes frames into objects, so the load generator costs less CPU per delivery
 * than the server it measures.
 */
import { Agent, type ClientRequest, request } from "node:http";
import type { ChannelKind, ClientConnection, OpenOptions, Transport } from "./client.js";
import { EnvelopeReader } from "./envelopes.js";
import { FrameFollower } from "./frame-follower.js";
import { subscribeCall } from "./subscribe-frames.js";

const END_STREAM = 0x02;

/** The error an end-stream envelope carries, or null for a clean end. */
function endStreamError(json: string): Error | null {
  let parsed: { error?: { code?: string; message?: string } };
  try {
    parsed = JSON.parse(json) as typeof parsed;
  } catch {
    return new Error(`end-stream is not JSON: ${json.slice(0, 200)}`);
  }
  return parsed.error ? new Error(`${parsed.error.code ?? "unknown"}: ${parsed.error.message ?? ""}`) : null;
}

/** Opens one subscription of `channel`; its follower tells when it is ready and counts what it receives. */
function subscribe(agent: Agent, options: OpenOptions, channel: ChannelKind, isClosing: () => boolean): { follower: FrameFollower; req: ClientRequest } {
  const follower = new FrameFollower(options.receipts, isClosing, options.observer === true);
  const { path, body } = subscribeCall(options.user, channel, options.presence === true);
  const req = request({
    host: options.target.host,
    port: options.target.port,
    agent,
    method: "POST",
    path,
    headers: {
      "content-type": "application/connect+proto",
      "connect-protocol-version": "1",
      "content-length": body.length,
      authorization: `Bearer ${options.user.token}`,
    },
  });
  req.on("error", (error) => follower.end(error));
  req.on("response", (res) => {
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("close", () => follower.end(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`)));
      return;
    }
    /** undefined until the end-stream envelope, then its error or null. */
    let ended: Error | null | undefined;
    let failure: unknown;
    const fail = (error: unknown) => {
      failure ??= error;
      req.destroy();
    };
    const reader = new EnvelopeReader((flags, bytes, start, end) => {
      if (failure !== undefined) return;
      if (ended !== undefined) return fail(new Error("envelope after end-stream"));
      if (flags === END_STREAM) ended = endStreamError(bytes.toString("utf8", start, end));
      else if (flags !== 0) fail(new Error(`envelope flags ${flags}`));
      else follower.frame(bytes, start, end);
    });
    res.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        fail(error);
      }
    });
    res.on("error", (error) => (failure ??= error));
    res.on("close", () => {
      if (failure !== undefined) return follower.end(failure);
      if (ended === undefined || reader.partial) return follower.end(new Error("connection closed before end-stream"));
      follower.end(ended ?? undefined);
    });
  });
  req.end(body);
  return { follower, req };
}

async function open(options: OpenOptions): Promise<ClientConnection> {
  const agent = new Agent({ keepAlive: true, localAddress: options.localAddress });
  let closing = false;
  const streams = options.channels.map((channel) => subscribe(agent, options, channel, () => closing));
  const close = () => {
    closing = true;
    for (const { req } of streams) req.destroy();
    agent.destroy();
  };
  try {
    await Promise.all(streams.map(({ follower }) => follower.ready));
  } catch (error) {
    close();
    throw error;
  }
  return { streams: streams.length, close };
}

/** The Connect protocol over HTTP/1.1: one connection per subscription. */
export const connectTransport: Transport = { multiplexes: false, open };
