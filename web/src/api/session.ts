// The signed-in session: the token pair from POST /auth/login (or /auth/2fa/verify), kept in
// localStorage so that every tab shares one session. A refresh token works once, so two tabs
// must never spend the same one: refreshing happens under a Web Lock, and a tab that finds the
// pair changed meanwhile takes the new one instead of refreshing again (as the CLI does).

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

const KEY = "stepwise.session";
type Listener = (pair: TokenPair | null) => void;
const listeners = new Set<Listener>();

export function loadSession(): TokenPair | null {
  const text = localStorage.getItem(KEY);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<TokenPair>;
    if (typeof value.access_token === "string" && typeof value.refresh_token === "string") {
      return { access_token: value.access_token, refresh_token: value.refresh_token };
    }
  } catch {
    // A damaged entry is no session.
  }
  return null;
}

export function saveSession(pair: TokenPair | null): void {
  if (pair === null) localStorage.removeItem(KEY);
  else
    localStorage.setItem(
      KEY,
      JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token }),
    );
  for (const listener of listeners) listener(pair);
}

/** Hear of sign-ins and sign-outs, in this tab and in the others. */
export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  const storage = (event: StorageEvent) => {
    if (event.key === KEY) listener(loadSession());
  };
  window.addEventListener("storage", storage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", storage);
  };
}

// Without Web Locks (an older browser, tests) refreshes still go one at a time in this tab.
let chain: Promise<unknown> = Promise.resolve();

async function locked<T>(work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("stepwise.refresh", work);
  }
  const next = chain.then(work, work);
  chain = next.catch(() => undefined);
  return next;
}

/** A new pair for the session whose access token `stale` was refused; null when it has ended. */
export async function refreshSession(stale: string): Promise<TokenPair | null> {
  return locked(async () => {
    const current = loadSession();
    if (current === null) return null;
    if (current.access_token !== stale) return current; // another tab refreshed already
    const response = await fetch(
      new Request(new URL("/api/v1/auth/refresh", location.origin), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      }),
    );
    if (!response.ok) {
      saveSession(null);
      return null;
    }
    const pair = (await response.json()) as TokenPair;
    saveSession(pair);
    return pair;
  });
}
