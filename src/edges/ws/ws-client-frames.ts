/**
 * Parsing what a client sends on the multiplexed /ws socket (the protocol is in ws-frames.ts).
 * Only the frame's shape is checked here; the values (id formats, text length) are checked by
 * the proto's validation rules where they are used, like on every other edge.
 */
import { exceedsJsonDepth, hasLoneSurrogate, tooDeepMessage } from "../http/client-json.js";
import type { StreamTarget } from "../streams/stream-open.js";
import { CLOSE } from "./ws-frames.js";

/** A well-formed client frame of the /ws protocol. */
export type ClientFrame =
  | { readonly type: "subscribe"; readonly target: StreamTarget; readonly since: string; readonly ref?: string }
  | { readonly type: "unsubscribe"; readonly target: StreamTarget; readonly ref?: string }
  | { readonly type: "post"; readonly roomId: string; readonly text: string; readonly clientMessageId: string; readonly ref?: string }
  | {
      readonly type: "dm";
      readonly to: { readonly userId: string } | { readonly username: string };
      readonly text: string;
      readonly clientMessageId: string;
      readonly ref?: string;
    };

/**
 * ok: a well-formed frame. Otherwise `fatal` says whether the socket must close — with
 * `closeCode`: 1007 for JSON nested deeper than MAX_JSON_DEPTH, 4400 for anything else that is
 * not a JSON object with a known "type" — or only this request fails (wrong or unknown fields).
 */
export type ParsedFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly fatal: true; readonly closeCode: number; readonly message: string }
  | { readonly ok: false; readonly fatal: false; readonly message: string; readonly ref?: string };

const FIELDS: Readonly<Record<ClientFrame["type"], readonly string[]>> = {
  subscribe: ["type", "ref", "room_id", "dms", "rooms", "since", "presence"],
  unsubscribe: ["type", "ref", "room_id", "dms", "rooms"],
  post: ["type", "ref", "room_id", "text", "client_message_id"],
  dm: ["type", "ref", "to_username", "to_user_id", "text", "client_message_id"],
};

/** Parses one text frame; its nesting depth is checked before it is parsed. Never throws. */
export function parseClientFrame(data: string): ParsedFrame {
  if (exceedsJsonDepth(data)) return { ok: false, fatal: true, closeCode: CLOSE.invalidPayload, message: tooDeepMessage("frame") };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, fatal: true, closeCode: CLOSE.badFrame, message: "frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, fatal: true, closeCode: CLOSE.badFrame, message: "frame must be a JSON object" };
  }
  const o = value as Record<string, unknown>;
  const type = o["type"];
  if (typeof type !== "string" || !Object.hasOwn(FIELDS, type)) {
    return { ok: false, fatal: true, closeCode: CLOSE.badFrame, message: 'frame "type" must be subscribe, unsubscribe, post or dm' };
  }
  const ref = typeof o["ref"] === "string" && o["ref"].length <= 64 ? o["ref"] : undefined;
  const fail = (message: string): ParsedFrame => ({ ok: false, fatal: false, message, ...(ref === undefined ? {} : { ref }) });
  if (o["ref"] !== undefined && ref === undefined) return fail('"ref" must be a string of at most 64 characters');
  if (hasLoneSurrogate(o)) return fail("frame has a string that is not valid Unicode (unpaired surrogate)");
  const unknown = Object.keys(o).find((k) => !FIELDS[type as ClientFrame["type"]].includes(k));
  if (unknown !== undefined) return fail(`unknown field "${unknown}" in a ${type} frame`);
  for (const key of ["room_id", "since", "text", "client_message_id", "to_username", "to_user_id"]) {
    if (o[key] !== undefined && typeof o[key] !== "string") return fail(`"${key}" must be a string`);
  }
  const str = (key: string): string => (o[key] as string | undefined) ?? "";
  const withRef = <T extends object>(frame: T): T => (ref === undefined ? frame : { ...frame, ref });
  switch (type) {
    case "subscribe":
    case "unsubscribe": {
      if (o["dms"] !== undefined && o["dms"] !== true) return fail('"dms" must be true when given');
      if (o["rooms"] !== undefined && o["rooms"] !== true) return fail('"rooms" must be true when given');
      const given = [o["room_id"] !== undefined, o["dms"] === true, o["rooms"] === true].filter(Boolean).length;
      if (given !== 1) return fail('give exactly one of "room_id", "dms": true and "rooms": true');
      if (o["presence"] !== undefined && typeof o["presence"] !== "boolean") return fail('"presence" must be true or false when given');
      if (o["presence"] === true && o["dms"] === true) return fail('"presence" is for a room: direct-message streams have none');
      if (o["presence"] === true && o["rooms"] === true) return fail('"presence" is for a room: the room list has none');
      const target: StreamTarget =
        o["dms"] === true
          ? { kind: "direct" }
          : o["rooms"] === true
            ? { kind: "rooms" }
            : { kind: "room", roomId: str("room_id"), ...(o["presence"] === true ? { presence: true } : {}) };
      return { ok: true, frame: type === "subscribe" ? withRef({ type, target, since: str("since") }) : withRef({ type, target }) };
    }
    case "post":
      return { ok: true, frame: withRef({ type, roomId: str("room_id"), text: str("text"), clientMessageId: str("client_message_id") }) };
    default: {
      if ((o["to_username"] === undefined) === (o["to_user_id"] === undefined)) return fail('give exactly one of "to_username" and "to_user_id"');
      const to = o["to_user_id"] !== undefined ? { userId: str("to_user_id") } : { username: str("to_username") };
      return { ok: true, frame: withRef({ type: "dm" as const, to, text: str("text"), clientMessageId: str("client_message_id") }) };
    }
  }
}
