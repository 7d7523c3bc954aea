/**
 * A subscription over any edge — the five RPC protocols (stream-subscribers.ts), SSE and
 * WebSocket — recorded as one shape of frame, so a test of a live frame (read, typing) runs the
 * same checks on every edge. Signal payloads are kept in their proto JSON (the SSE/WebSocket and
 * REST shape); RPC frames are converted to it.
 */
import { EventEmitter } from "node:events";
import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { EventSource } from "eventsource";
import { WebSocket } from "ws";
import { PresenceSchema, ReadStateSchema, TypingSchema } from "../../gen/chat/v1/types_pb.js";
import { STREAM_PROTOCOLS, subscribe, type StreamProtocol } from "./stream-subscribers.js";

export type AnyProtocol = StreamProtocol | "sse" | "websocket";
export const ANY_PROTOCOLS: readonly AnyProtocol[] = [...STREAM_PROTOCOLS, "sse", "websocket"];

/** A room's stream (asking for presence frames or not), the caller's direct-message stream, or the room list (WatchRooms). */
export type StreamTarget = { readonly roomId: string; readonly presence?: boolean } | { readonly direct: true } | { readonly rooms: true };

/** A frame of a subscription, whatever carried it. */
export interface SeenFrame {
  readonly case: string;
  /** A message's id, a Ready's position, a room's id (case "room"); on SSE, every event's last-event id ("" for none). */
  readonly id?: string;
  /** A room's name (case "room", the room list's frames on every edge). */
  readonly name?: string;
  /** SSE only: a room event's own `id:` (its room id, the resume cursor). */
  readonly eventId?: string;
  /** A read frame's ReadState, as proto JSON. */
  readonly read?: JsonValue;
  /** A typing frame's Typing, as proto JSON. */
  readonly typing?: JsonValue;
  /** A presence frame's Presence, as proto JSON. */
  readonly presence?: JsonValue;
  /** WebSocket only: the subscription the frame names. */
  readonly roomId?: string;
  readonly dms?: boolean;
  readonly rooms?: boolean;
}

export interface SeenStream {
  readonly frames: () => SeenFrame[];
  /** Resolves once `check` holds for the frames so far (re-checked as frames arrive); fails after 10 s. */
  until(check: (frames: SeenFrame[]) => boolean, what: string): Promise<void>;
  close(): void;
}

const SIGNALS = ["read", "typing", "presence"] as const;
const toJsonOptions = { alwaysEmitImplicit: true } as const;

/** Emits "frame" whenever an SSE or WebSocket stream records something: until() re-checks then. */
const arrivals = new EventEmitter();
arrivals.setMaxListeners(0);

function waitFor(check: () => boolean, what: () => string): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onFrame = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what()}`));
    }, 10_000);
    const done = () => {
      clearTimeout(timer);
      arrivals.off("frame", onFrame);
    };
    arrivals.on("frame", onFrame);
  });
}

/** Opens `token`'s stream of `target` on `baseUrl` over `protocol` (from `since`, or from now). */
export function openAnyStream(baseUrl: string, protocol: AnyProtocol, token: string, target: StreamTarget, since = ""): SeenStream {
  if (protocol === "sse" || protocol === "websocket") {
    const frames: SeenFrame[] = [];
    const record = (frame: SeenFrame) => {
      frames.push(frame);
      arrivals.emit("frame");
    };
    const path = "roomId" in target ? `/room/${target.roomId}/subscribe` : "rooms" in target ? "/rooms/watch" : "/me/subscribe";
    const query = new URLSearchParams();
    if (since) query.set("since", since);
    if ("roomId" in target && target.presence) query.set("presence", "true");
    const url = `${baseUrl}${path}${query.size > 0 ? `?${query}` : ""}`;
    let close: () => void;
    if (protocol === "sse") {
      const es = new EventSource(url, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }),
      });
      for (const type of ["ready", "message", "gap", "room", ...SIGNALS, "end"]) {
        es.addEventListener(type, (e) => {
          const { data, lastEventId } = e as MessageEvent<string>;
          const parsed = JSON.parse(data) as { messageId?: string; roomId?: string; name?: string };
          if (type === "room") return record({ case: "room", id: parsed.roomId!, name: parsed.name!, eventId: lastEventId });
          // A signal event's id is the one it carried ("" for none): it must carry none.
          const signal = (SIGNALS as readonly string[]).includes(type);
          record(signal ? { case: type, id: lastEventId, [type]: parsed as JsonValue } : { case: type, id: type === "message" ? parsed.messageId! : lastEventId });
        });
      }
      close = () => es.close();
    } else {
      const ws = new WebSocket(url.replace(/^http/, "ws"), { headers: { authorization: `Bearer ${token}` } });
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as {
          type: string;
          room_id?: string;
          dms?: boolean;
          position?: string;
          message?: { messageId: string };
          room?: { roomId: string; name: string };
          rooms?: boolean;
          read?: JsonValue;
          typing?: JsonValue;
          presence?: JsonValue;
        };
        const id = frame.message?.messageId ?? frame.room?.roomId ?? frame.position;
        record({
          case: frame.type,
          ...(id ? { id } : {}),
          ...(frame.room ? { name: frame.room.name } : {}),
          ...(frame.rooms ? { rooms: true } : {}),
          ...(frame.read ? { read: frame.read } : {}),
          ...(frame.typing ? { typing: frame.typing } : {}),
          ...(frame.presence ? { presence: frame.presence } : {}),
          ...(frame.room_id ? { roomId: frame.room_id } : {}),
          ...(frame.dms ? { dms: true } : {}),
        });
      });
      close = () => ws.close();
    }
    return {
      frames: () => frames,
      until: (check, what) => waitFor(() => check(frames), () => `${protocol} ${what}; got ${JSON.stringify(frames)}`),
      close: () => close(),
    };
  }
  const s = subscribe(
    protocol,
    baseUrl,
    token,
    "roomId" in target ? { roomId: target.roomId, since, presence: target.presence ?? false } : "rooms" in target ? { rooms: true, since } : { direct: true, since },
  );
  const frames = () =>
    s.frames.map((f): SeenFrame => {
      if (f.case === "read") return { case: "read", read: toJson(ReadStateSchema, f.read!, toJsonOptions) };
      if (f.case === "typing") return { case: "typing", typing: toJson(TypingSchema, f.typing!, toJsonOptions) };
      // The room list's `created` frame is the SSE/WebSocket `room` frame.
      if (f.case === "created") return { case: "room", id: f.id!, name: f.name! };
      if (f.case === "presence") return { case: "presence", presence: toJson(PresenceSchema, f.presence!, toJsonOptions) };
      const id = f.id ?? f.position;
      return { case: f.case, ...(id ? { id } : {}) };
    });
  return { frames, until: (check) => s.until(() => check(frames())), close: () => s.cancel() };
}
