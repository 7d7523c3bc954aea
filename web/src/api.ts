import { Code, ConnectError, createParleyClient } from "@parley/client/web";

const tokenKey = "parley.accessToken";

/** The signed-in user's access token, kept in sessionStorage (one per tab). */
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(tokenKey);
  },
  set(token: string): void {
    sessionStorage.setItem(tokenKey, token);
  },
  clear(): void {
    sessionStorage.removeItem(tokenKey);
  },
};

/**
 * The page's Parley client (@parley/client): Connect with JSON, so the network panel stays
 * readable; every call carries the tab's token while it has one.
 */
export const client = createParleyClient({
  baseUrl: location.origin,
  transport: "connect",
  binary: false,
  getToken: () => session.token ?? undefined,
});

/** True when the error means the token is missing, expired or revoked. */
export function isAuthError(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}

/**
 * A sentence to show the reader for a failed call. `taken` replaces the
 * ALREADY_EXISTS wording, `missing` the NOT_FOUND wording.
 */
export function describeError(err: unknown, words: { taken?: string; missing?: string } = {}): string {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.AlreadyExists:
      return words.taken ?? "That already exists.";
    case Code.NotFound:
      return words.missing ?? "Not found.";
    case Code.InvalidArgument:
      return e.rawMessage || "That input is not valid.";
    case Code.Unauthenticated:
      return "Your session has ended. Please sign in again.";
    case Code.Unavailable:
    case Code.Unknown:
    case Code.DeadlineExceeded:
      return "Can't reach the server right now. Try again in a moment.";
    case Code.ResourceExhausted:
      return "Too many requests. Slow down a little and try again.";
    default:
      return e.rawMessage || "Something went wrong.";
  }
}
