/**
 * The client's network address, for per-IP rate limits and logs. X-Forwarded-For is believed
 * only when the peer is a configured trusted proxy; otherwise the socket's address is used.
 */
import { createContextKey } from "@connectrpc/connect";

export const clientIpKey = createContextKey<string | undefined>(undefined, { description: "client IP address" });

/** Header the REST edge uses to hand the address to in-process RPCs (overwritten on every request). */
export const INTERNAL_IP_HEADER = "x-parley-client-ip";

export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly string[],
): string {
  const peer = socketAddress ?? "unknown";
  if (!forwardedFor || !trustedProxies.includes(peer)) return peer;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map((s) => s.trim());
  // The right-most address not belonging to a trusted proxy is the client.
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i] && !trustedProxies.includes(chain[i]!)) return chain[i]!;
  return peer;
}
