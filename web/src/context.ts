import type { User } from "@parley/client/web";
import type { ConnectionIndicator } from "./connection-indicator.js";
import type { DmFeed } from "./dm-feed.js";

/** What every signed-in view gets from the shell. */
export interface AppContext {
  me: User;
  indicator: ConnectionIndicator;
  dms: DmFeed;
  /** The server rejected the token: drop the session and show sign-in. */
  onAuthLost(): void;
}
