/** The shape every bench client has, whatever its transport. */
import type { LoadUser, Target } from "../protocol.js";
import type { Receipts } from "../receipts.js";

export type ChannelKind = "room" | "dm";

export interface OpenOptions {
  readonly target: Target;
  readonly user: LoadUser;
  /** The channels to subscribe to; a transport that multiplexes carries all on one connection. */
  readonly channels: readonly ChannelKind[];
  readonly localAddress: string;
  readonly receipts: Receipts;
  /** Room streams ask for presence frames (absent: they do not). */
  readonly presence?: boolean;
  /** This stream decodes its presence frames' joined lists, for the presence lag (one per load process). */
  readonly observer?: boolean;
}

/** Where a post goes: a room, or a user's inbox. */
export type PostTarget = { readonly roomId: string } | { readonly toUserId: string };

/** One client connection with its subscriptions, all `ready` by the time open() resolves. */
export interface ClientConnection {
  /** Subscriptions it carries. */
  readonly streams: number;
  /** Closes on purpose (not counted as an error). */
  close(): void;
  /** Posts as the connection's user, on transports that can (/ws); resolves on the server's ack. */
  readonly post?: (target: PostTarget, text: string) => Promise<void>;
}

/**
 * Opens a connection and its subscriptions; resolves once each has sent its first (ready)
 * frame, rejects when one fails first. After that, failures are counted in receipts.
 */
export type Opener = (options: OpenOptions) => Promise<ClientConnection>;

/** Whether the opener carries all channels of a user on one connection. */
export interface Transport {
  readonly open: Opener;
  readonly multiplexes: boolean;
}

/** The HTTP path of a channel's subscription at the browser edge (a room's with `?presence=true` when asked). */
export function subscribePath(user: LoadUser, channel: ChannelKind, presence: boolean): string {
  if (channel === "dm") return "/me/subscribe";
  return `/room/${user.roomId}/subscribe${presence ? "?presence=true" : ""}`;
}
