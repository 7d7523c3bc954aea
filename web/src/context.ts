import type { User } from "../../gen/chat/v1/types_pb.js";
import type { ConnectionIndicator } from "./conn-state.js";
import type { DmFeed } from "./dm-feed.js";

/** What every signed-in view gets from the shell. */
export interface AppContext {
  me: User;
  indicator: ConnectionIndicator;
  dms: DmFeed;
  /** The server rejected the token: drop the session and show sign-in. */
  onAuthLost(): void;
}
