/**
 * WebSocket subscribers: one socket per subscription at the browser edge
 * (GET /room/{id}/subscribe, /me/subscribe with `Authorization: Bearer`), or at the bare
 * baseline server. Frames are scanned for bench markers as bytes, never JSON-parsed; the first
 * frame must be `ready`. Presence frames are counted, typing frames timed by their `until`.
 */
import WebSocket from "ws";
import type { ClientConnection, OpenOptions, Transport } from "./client.js";
import { subscribePath } from "./client.js";
import type { Receipts } from "../receipts.js";

const READY = Buffer.from('"ready"');
const HEARTBEAT = Buffer.from('"heartbeat"');
const PRESENCE = Buffer.from('{"type":"presence"');
const TYPING = Buffer.from('{"type":"typing"');

/**
 * Counts a frame after ready that holds no bench marker: a heartbeat, presence or typing frame
 * of Parley's WebSocket edges (/room/…/subscribe and /ws alike); false for anything else.
 */
export function countEphemeralWsFrame(data: Buffer, receipts: Receipts, observer: boolean): boolean {
  if (data.subarray(0, PRESENCE.length).equals(PRESENCE)) {
    receipts.presenceFrames++;
    if (observer) receipts.joinedJson((JSON.parse(data.toString()) as { presence?: unknown }).presence);
  }
  else if (data.subarray(0, TYPING.length).equals(TYPING)) receipts.typingJson(data);
  else if (data.includes(HEARTBEAT)) receipts.heartbeats++;
  else return false;
  return true;
}

/** Opens one socket and resolves on its ready frame. */
export function openSocket(
  url: string,
  headers: Record<string, string>,
  localAddress: string,
  receipts: Receipts,
  observer = false,
): Promise<ClientConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, localAddress, perMessageDeflate: false, handshakeTimeout: 60_000 });
    let ready = false;
    let closing = false;
    socket.on("message", (data: Buffer) => {
      if (ready) {
        if (receipts.bytes(data) === 0 && !countEphemeralWsFrame(data, receipts, observer)) {
          receipts.error("unexpected_frame", data.subarray(0, 200).toString());
        }
        return;
      }
      if (!data.includes(READY)) {
        socket.terminate();
        reject(new Error(`first frame was not ready: ${data.subarray(0, 200).toString()}`));
        return;
      }
      ready = true;
      receipts.open++;
      resolve({
        streams: 1,
        close() {
          closing = true;
          socket.terminate();
        },
      });
    });
    socket.on("unexpected-response", (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode} on upgrade`));
      res.resume();
      socket.terminate();
    });
    socket.on("error", (error) => {
      if (!ready) reject(error);
      else if (!closing) receipts.error("socket_error", error);
    });
    socket.on("close", (code, reason) => {
      if (!ready) {
        reject(new Error(`closed before ready: ${code} ${reason.toString()}`));
        return;
      }
      receipts.open--;
      if (!closing) receipts.error("stream_ended", `ws close ${code} ${reason.toString()}`);
    });
  });
}

/** Parley's WebSocket edge: one socket per subscription. */
export const wsTransport: Transport = {
  multiplexes: false,
  open(options: OpenOptions) {
    const [channel] = options.channels;
    const { host, port } = options.target;
    return openSocket(
      `ws://${host}:${port}${subscribePath(options.user, channel ?? "room", options.presence === true)}`,
      { authorization: `Bearer ${options.user.token}` },
      options.localAddress,
      options.receipts,
      options.observer === true,
    );
  },
};

/** The bare ws baseline server: every socket receives every broadcast; no auth, no channels. */
export const bareTransport: Transport = {
  multiplexes: false,
  open(options: OpenOptions) {
    const { host, port } = options.target;
    return openSocket(`ws://${host}:${port}/`, {}, options.localAddress, options.receipts);
  },
};
