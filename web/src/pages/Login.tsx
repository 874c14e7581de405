// Sign-in: username and password, then a code when the account has two-factor authentication
// on (POST /auth/login answers a challenge; POST /auth/2fa/verify redeems it); or single sign-on
// through the OIDC provider, when the API says it has one (GET /auth/oidc).
import { type FormEvent, useEffect, useState } from "react";
import { api, errorMessage } from "../api/client";
import { saveSession, type TokenPair } from "../api/session";

type Step = { kind: "password" } | { kind: "code"; challenge: string };

export function Login({ onSignedIn }: { onSignedIn?: (pair: TokenPair) => void }) {
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [oidcUrl, setOidcUrl] = useState<string | null>(null);

  useEffect(() => {
    let gone = false;
    api
      .GET("/api/v1/auth/oidc")
      .then(({ data }) => {
        if (!gone && data?.enabled && data.login_url) setOidcUrl(data.login_url);
      })
      // Without an answer the password form is all there is.
      .catch(() => null);
    return () => {
      gone = true;
    };
  }, []);

  const signedIn = (pair: TokenPair) => {
    saveSession(pair);
    onSignedIn?.(pair);
  };

  const submitPassword = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data, error, response } = await api.POST("/api/v1/auth/login", {
        body: { username, password },
      });
      if (!data) return setError(errorMessage(error, response.status));
      if ("two_factor_required" in data) {
        setPassword("");
        setCode("");
        setStep({ kind: "code", challenge: data.challenge });
      } else signedIn(data);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    if (step.kind !== "code") return;
    setBusy(true);
    setError(null);
    try {
      const { data, error, response } = await api.POST("/api/v1/auth/2fa/verify", {
        body: {
          challenge: step.challenge,
          code: code.trim(),
          remember_device: remember,
          device_name: remember ? navigator.userAgent.slice(0, 200) : null,
        },
      });
      if (data) return signedIn(data);
      const message = errorMessage(error, response.status);
      // An expired challenge needs the password again; a wrong code only another code.
      if (message.startsWith("challenge:")) setStep({ kind: "password" });
      setError(message);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Sign in to Stepwise</h1>
      {step.kind === "password" ? (
        <form onSubmit={submitPassword} aria-describedby={error ? "login-error" : undefined}>
          <label>
            Username
            <input
              name="username"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {error && (
            <p id="login-error" role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            Sign in
          </button>
          {oidcUrl && (
            <>
              <p className="or">or</p>
              {/* A whole-page visit: the API sends the browser on to the provider. */}
              <a className="button" href={oidcUrl}>
                Continue with single sign-on
              </a>
            </>
          )}
        </form>
      ) : (
        <form onSubmit={submitCode}>
          <p>Enter the code your authenticator app shows, or one of your backup codes.</p>
          <label>
            Code
            <input
              name="code"
              autoComplete="one-time-code"
              inputMode="text"
              required
              autoFocus
              value={code}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "code-error" : undefined}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          {error && (
            <p id="code-error" role="alert" className="error">
              {error}
            </p>
          )}
          <label className="inline">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            Trust this browser for 30 days
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Verify
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setError(null);
                setStep({ kind: "password" });
              }}
            >
              Back
            </button>
          </div>
        </form>
      )}
    </main>
  );
}
