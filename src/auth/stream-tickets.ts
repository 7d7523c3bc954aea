/**
 * Stream tickets: how a browser opens an EventSource or a WebSocket without putting its access
 * token in a URL (URLs end up in logs and histories). AuthService.CreateStreamTicket (REST: POST /auth/ticket) trades the token for a
 * ticket that is valid for TICKET_SECONDS and for one stream; `?ticket=` on a subscribe URL
 * redeems it.
 *
 * A ticket is the access token sealed with AES-256-GCM under a key every node derives from the
 * shared token key, so any node can redeem it and the token cannot be read out of it. Single
 * use is enforced by the store every process and node shares (`Store.redeemOnce` on the
 * ticket's nonce: one INSERT OR IGNORE on SQLite, one `IF NOT EXISTS` on Cassandra), so a ticket
 * opens one stream whichever worker or node each attempt reaches; the token inside still passes
 * the normal verification and revocation checks, so a signed-out session's tickets are worthless.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** How long a stream ticket is valid. */
export const TICKET_SECONDS = 30;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Uses up a nonce: true for the first redemption anywhere, false afterwards (Store.redeemOnce). */
export type RedeemOnce = (nonce: string, expiresAtMs: number) => Promise<boolean>;

/** Issues and redeems stream tickets (see the file comment). */
export class StreamTickets {
  readonly #key: Buffer;
  readonly #redeemOnce: RedeemOnce;

  /** `key`: 32 bytes every node shares (derived from the token signing key in app.ts). */
  constructor(key: Buffer, redeemOnce: RedeemOnce) {
    if (key.length !== 32) throw new RangeError("a stream-ticket key is 32 bytes");
    this.#key = key;
    this.#redeemOnce = redeemOnce;
  }

  /** A ticket for `token`, valid for TICKET_SECONDS from now. */
  issue(token: string, now = Date.now()): { ticket: string; expiresAtMs: number } {
    const expiresAtMs = now + TICKET_SECONDS * 1000;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const plain = Buffer.from(JSON.stringify({ t: token, e: expiresAtMs }));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { ticket: sealed.toString("base64url"), expiresAtMs };
  }

  /**
   * The access token inside a ticket, once: undefined when the ticket is forged, damaged,
   * expired, or was already redeemed (on any worker or node).
   */
  async redeem(ticket: string, now = Date.now()): Promise<string | undefined> {
    if (ticket.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(ticket)) return undefined;
    const sealed = Buffer.from(ticket, "base64url");
    if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
    let payload: unknown;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      payload = JSON.parse(plain.toString("utf8"));
    } catch {
      return undefined;
    }
    const { t, e } = (payload ?? {}) as { t?: unknown; e?: unknown };
    if (typeof t !== "string" || typeof e !== "number" || e <= now) return undefined;
    const nonce = sealed.subarray(0, IV_BYTES).toString("base64url");
    return (await this.#redeemOnce(`ticket:${nonce}`, e)) ? t : undefined;
  }
}
