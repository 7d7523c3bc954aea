/** What the edges of a node are built from (edges.ts), on its own so the edges' parts can name it without importing edges.ts. */
import type { Config } from "../config.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { Accounts } from "../services/accounts.js";
import type { Messages } from "../services/messages.js";
import type { Rooms } from "../services/rooms.js";
import type { StreamSessions } from "../realtime/stream-sessions.js";
import type { TokenIssuer } from "../auth/tokens.js";
import type { RevocationCache } from "../auth/revocations.js";
import type { StreamTickets } from "../auth/stream-tickets.js";
import type { UserDirectory } from "../auth/user-directory.js";
import type { BucketsFactory } from "./admission/rate-limit.js";

export interface EdgeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly services: { readonly accounts: Accounts; readonly rooms: Rooms; readonly messages: Messages };
  readonly sessions: StreamSessions;
  readonly tokens: TokenIssuer;
  readonly revocations: RevocationCache;
  readonly tickets: StreamTickets;
  readonly users: UserDirectory;
  /** Where the rate limits' buckets are kept (a worker of several leases from its primary's). */
  readonly rateBuckets: BucketsFactory;
}
