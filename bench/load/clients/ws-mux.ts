/**
 * The multiplexed WebSocket, /ws: one socket per user, authenticated with
 * `Authorization: Bearer`, on which the client sends {"type":"subscribe","room_id":…} and
 * {"type":"subscribe","dms":true} (a room's with "presence":true when asked); it is ready once a ready frame came back for each. It can
 * also post ({"type":"post"|"dm", "ref", …}), settled by the ack or error frame with that ref.
 * Frames are scanned for bench markers as bytes, never JSON-parsed.
 */
import WebSocket from "ws";
import type { ClientConnection, OpenOptions, PostTarget, Transport } from "./client.js";
import { countEphemeralWsFrame } from "./ws.js";

const READY = Buffer.from('"type":"ready"');
const ERROR = Buffer.from('"type":"error"');
/** Acks echo the posted message (marker included): they are answers, not deliveries. */
const ACK_PREFIX = Buffer.from('{"type":"ack"');
const REF = Buffer.from('"ref":"');

/** The ref of an ack or error frame, read without parsing the JSON. */
function refOf(data: Buffer): string | undefined {
  const at = data.indexOf(REF);
  if (at < 0) return undefined;
  const start = at + REF.length;
  const end = data.indexOf(0x22, start);
  return end < 0 ? undefined : data.toString("latin1", start, end);
}

class PostError extends Error {
  constructor(readonly code: string, frame: string) {
    super(frame);
  }
}

export const wsMuxTransport: Transport = {
  multiplexes: true,
  open(options: OpenOptions): Promise<ClientConnection> {
    const { receipts, user } = options;
    const { host, port } = options.target;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${host}:${port}/ws`, {
        headers: { authorization: `Bearer ${user.token}` },
        localAddress: options.localAddress,
        perMessageDeflate: false,
        handshakeTimeout: 60_000,
      });
      let readies = 0;
      let ready = false;
      let closing = false;
      const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
      let nextRef = 0;
      const post = (target: PostTarget, text: string): Promise<void> =>
        new Promise((resolve, reject) => {
          if (socket.readyState !== WebSocket.OPEN) return reject(new PostError("socket_closed", "socket is not open"));
          const ref = String(nextRef++);
          pending.set(ref, { resolve, reject });
          socket.send(
            JSON.stringify("roomId" in target ? { type: "post", ref, room_id: target.roomId, text } : { type: "dm", ref, to_user_id: target.toUserId, text }),
          );
        });
      socket.on("open", () => {
        for (const channel of options.channels) {
          const frame =
            channel === "room"
              ? { type: "subscribe", room_id: user.roomId, ...(options.presence ? { presence: true } : {}) }
              : { type: "subscribe", dms: true };
          socket.send(JSON.stringify(frame));
        }
      });
      socket.on("message", (data: Buffer) => {
        if (data.subarray(0, ACK_PREFIX.length).equals(ACK_PREFIX)) {
          const ref = refOf(data);
          const waiter = ref === undefined ? undefined : pending.get(ref);
          if (waiter) {
            pending.delete(ref!);
            waiter.resolve();
          }
          return;
        }
        if (receipts.bytes(data) > 0) return;
        if (data.includes(READY)) {
          if (++readies === options.channels.length) {
            ready = true;
            receipts.open += readies;
            resolve({
              streams: readies,
              close() {
                closing = true;
                socket.terminate();
              },
              post,
            });
          }
        } else if (data.includes(ERROR)) {
          const ref = refOf(data);
          const waiter = ref === undefined ? undefined : pending.get(ref);
          if (waiter) {
            pending.delete(ref!);
            const code = /"code":"([a-z_]+)"/.exec(data.toString())?.[1] ?? "error";
            waiter.reject(new PostError(code, data.subarray(0, 200).toString()));
          } else if (!ready) {
            socket.terminate();
            reject(new Error(data.subarray(0, 200).toString()));
          } else receipts.error("error_frame", data.subarray(0, 200).toString());
        } else if (!countEphemeralWsFrame(data, receipts, options.observer === true)) receipts.error("unexpected_frame", data.subarray(0, 200).toString());
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
        for (const waiter of pending.values()) waiter.reject(new PostError("socket_closed", `ws close ${code}`));
        pending.clear();
        if (!ready) return reject(new Error(`closed before ready: ${code} ${reason.toString()}`));
        receipts.open -= readies;
        if (!closing) receipts.error("stream_ended", `ws close ${code} ${reason.toString()}`);
      });
    });
  },
};
