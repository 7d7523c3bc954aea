/** Use cases of accounts and sessions: sign up, sign in, sign out, who am I. */
import { AlreadyExistsError, NotFoundError, UnauthenticatedError } from "../domain/errors.js";
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { UserRecord } from "../domain/model.js";
import { displayForm, uniquenessKey } from "../domain/names.js";
import type { Bus } from "../bus/bus.js";
import type { HashAdmission } from "../auth/hash-admission.js";
import { DUMMY_HASH, hashPassword, verifyPassword } from "../auth/passwords.js";
import type { RevocationCache } from "../auth/revocations.js";
import type { StreamTickets } from "../auth/stream-tickets.js";
import type { TokenClaims, TokenIssuer } from "../auth/tokens.js";
import type { UserDirectory } from "../auth/user-directory.js";
import { type Store, UniqueViolation } from "../store/store.js";

export interface AccountsDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly tokens: TokenIssuer;
  readonly revocations: RevocationCache;
  readonly ids: SnowflakeGenerator;
  readonly tickets: StreamTickets;
  /** Every password hash (sign-up and sign-in alike) runs through it: bounded, queued, or refused. */
  readonly hashing: HashAdmission;
  readonly users: UserDirectory;
  /** Told when a sign-out's token_revoked event could not be published (the store sweeps still carry it). */
  readonly onRevocationUnpublished?: (error: unknown) => void;
}

export class Accounts {
  constructor(private readonly deps: AccountsDeps) {}

  /**
   * Creates a user; AlreadyExistsError when the name is taken in any letter case;
   * ResourceExhaustedError when too many passwords are being hashed.
   */
  async signUp(username: string, password: string): Promise<UserRecord> {
    const passwordHash = await this.deps.hashing.run(() => hashPassword(password));
    const user = { id: this.deps.ids.next(), username: displayForm(username), createdAtMs: Date.now() };
    try {
      await this.deps.store.createUser({ ...user, usernameKey: uniquenessKey(username), passwordHash });
    } catch (error) {
      if (error instanceof UniqueViolation) throw new AlreadyExistsError(`username "${user.username}" is taken`);
      throw error;
    }
    this.deps.users.remember(user);
    return user;
  }

  /**
   * Checks the password and issues a token. The same error, after the same work (a full hash
   * under the same admission), for an unknown user and a wrong password.
   */
  async signIn(username: string, password: string): Promise<{ token: string; claims: TokenClaims; user: UserRecord }> {
    const found = await this.deps.store.findUserByNameKey(uniquenessKey(username));
    const ok = await this.deps.hashing.run(() => verifyPassword(password, found?.passwordHash ?? DUMMY_HASH));
    if (!found || !ok) throw new UnauthenticatedError("wrong username or password");
    const user = { id: found.id, username: found.username, createdAtMs: found.createdAtMs };
    this.deps.users.remember(user);
    return { ...(await this.deps.tokens.issue(user)), user };
  }

  /**
   * Revokes the caller's token everywhere until it would have expired, and ends its open streams:
   * on this node at once, on the others by the bus (the fast path) or else by their store sweeps
   * (auth/revocation-sweep.ts) within seconds. Done once the revocation is stored: the bus is
   * published to in the background, so a bus outage delays other nodes but fails no sign-out.
   */
  async signOut(caller: TokenClaims): Promise<void> {
    await this.deps.store.revokeToken(caller.tokenId, caller.expiresAtMs);
    this.deps.revocations.remember(caller.tokenId, caller.expiresAtMs);
    this.deps.bus
      .publish({ type: "token_revoked", tokenId: caller.tokenId, expiresAtMs: caller.expiresAtMs })
      .catch((error: unknown) => this.deps.onRevocationUnpublished?.(error));
  }

  /** A short-lived, single-use ticket that stands for the caller's token on one stream. */
  streamTicket(token: string): { ticket: string; expiresAtMs: number } {
    return this.deps.tickets.issue(token);
  }

  /** The caller's own user record. */
  async me(caller: TokenClaims): Promise<UserRecord> {
    const user = await this.deps.store.findUserById(caller.userId);
    if (!user) throw new NotFoundError("your account no longer exists");
    return user;
  }
}
