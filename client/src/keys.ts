/** Idempotency keys (`client_message_id`): one per message, the same for every retry of it. */

/**
 * A fresh key: 128 random bits as 32 hex digits (the server takes up to 64 of `[A-Za-z0-9_.:-]`).
 * Uses getRandomValues, which unlike randomUUID also exists on pages served over plain http.
 */
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
