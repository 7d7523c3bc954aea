/**
 * Server-Sent Events subscribers: GET /room/{id}/subscribe (or /me/subscribe) with
 * `Accept: text/event-stream`, one HTTP/1.1 connection per subscription. Complete events are
 * scanned for bench markers as bytes (presence events counted, typing events timed by their
 * `until`); a partial event waits for the next chunk.
 */
import { request } from "node:http";
import type { ClientConnection, OpenOptions, Transport } from "./client.js";
import { subscribePath } from "./client.js";

const EVENT_END = Buffer.from("\n\n");
const READY = Buffer.from("event: ready");
const END = Buffer.from("event: end");
const HEARTBEAT = Buffer.from("heartbeat");
const PRESENCE = Buffer.from("event: presence\n");
const TYPING = Buffer.from("event: typing\n");
const DATA = Buffer.from("data: ");

export const sseTransport: Transport = {
  multiplexes: false,
  open(options: OpenOptions): Promise<ClientConnection> {
    const { receipts } = options;
    return new Promise((resolve, reject) => {
      let ready = false;
      let closing = false;
      let pending: Buffer | undefined;
      const req = request({
        host: options.target.host,
        port: options.target.port,
        localAddress: options.localAddress,
        path: subscribePath(options.user, options.channels[0] ?? "room", options.presence === true),
        headers: { accept: "text/event-stream", authorization: `Bearer ${options.user.token}` },
        agent: false,
      });
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`HTTP ${res.statusCode}`));
          res.resume();
          req.destroy();
          return;
        }
        res.on("data", (chunk: Buffer) => {
          const data = pending ? Buffer.concat([pending, chunk]) : chunk;
          const end = data.lastIndexOf(EVENT_END);
          if (end < 0) {
            pending = data;
            return;
          }
          pending = end + 2 < data.length ? data.subarray(end + 2) : undefined;
          const events = data.subarray(0, end + 2);
          if (!ready) {
            // A `retry:` line may come first; anything but ready or a comment before it is a failure.
            if (!events.includes(READY)) {
              if (events.includes(END) || events.includes(Buffer.from("event: "))) {
                reject(new Error(`stream failed before ready: ${events.subarray(0, 200).toString()}`));
                req.destroy();
              }
              return;
            }
            ready = true;
            receipts.open++;
            resolve({
              streams: 1,
              close() {
                closing = true;
                req.destroy();
              },
            });
          }
          if (receipts.bytes(events) === 0 && events.includes(HEARTBEAT)) receipts.heartbeats++;
          for (let at = events.indexOf(PRESENCE); at >= 0; at = events.indexOf(PRESENCE, at + PRESENCE.length)) {
            receipts.presenceFrames++;
            if (options.observer) receipts.joinedJson(JSON.parse(events.toString("utf8", at + PRESENCE.length + DATA.length, events.indexOf(EVENT_END, at))));
          }
          for (let at = events.indexOf(TYPING); at >= 0; at = events.indexOf(TYPING, at + TYPING.length)) {
            receipts.typingJson(events, at, events.indexOf(EVENT_END, at));
          }
        });
        res.on("close", () => {
          if (!ready) return reject(new Error("closed before ready"));
          receipts.open--;
          if (!closing) receipts.error("stream_ended", "SSE response ended");
        });
      });
      req.on("error", (error) => {
        if (!ready) reject(error);
        else if (!closing) receipts.error("socket_error", error);
      });
      req.end();
    });
  },
};
