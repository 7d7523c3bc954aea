const key = "parley.usernames";

function load(): Record<string, string> {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/**
 * Usernames the page has seen, by user id (the API has no user lookup): kept
 * for the tab's session so a conversation can be titled after a reload.
 */
export const usernames = {
  remember(userId: string, username: string): void {
    const all = load();
    if (all[userId] === username) return;
    all[userId] = username;
    sessionStorage.setItem(key, JSON.stringify(all));
  },
  get(userId: string): string | undefined {
    return load()[userId];
  },
};
