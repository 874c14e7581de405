// Where the OIDC provider sends the browser back (STEPWISE_OIDC_REDIRECT_URI is this page): the
// code and state it brought go to GET /api/v1/auth/oidc/callback, which checks them with the
// sign-in cookie (scoped to that path, sent along as the request is same-origin) and answers
// the token pair, kept as a password sign-in's is.
import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { saveSession, type TokenPair } from "../api/session";
import { navigate } from "../router";

// A code works once: a second render (React's StrictMode runs effects twice) waits on the
// first request instead of sending the code again.
const inFlight = new Map<string, Promise<TokenPair>>();

async function redeem(query: string): Promise<TokenPair> {
  const response = await fetch(new Request(new URL(`/api/v1/auth/oidc/callback${query}`, location.origin)), {
    credentials: "same-origin",
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new Error(errorMessage(body, response.status));
  return body as TokenPair;
}

export function OidcCallback() {
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const query = location.search;
    let pending = inFlight.get(query);
    if (!pending) {
      pending = redeem(query);
      inFlight.set(query, pending);
    }
    let gone = false;
    pending.then(
      (pair) => {
        if (gone) return;
        saveSession({ access_token: pair.access_token, refresh_token: pair.refresh_token });
        // Replace: going back must not land on a code that is spent.
        navigate("/runs", true);
      },
      (caught: unknown) => {
        if (!gone) setError(caught instanceof Error ? caught.message : String(caught));
      },
    );
    return () => {
      gone = true;
    };
  }, []);

  return (
    <main className="login">
      <h1>Signing in with single sign-on</h1>
      {error ? (
        <>
          <p role="alert" className="error">
            {error}
          </p>
          <p>
            <a href="/">Back to sign-in</a>
          </p>
        </>
      ) : (
        <p role="status">Checking the answer of the identity provider…</p>
      )}
    </main>
  );
}
