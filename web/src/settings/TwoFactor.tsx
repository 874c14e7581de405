// Two-factor authentication: enrol (POST /auth/2fa/enrol gives the secret and its QR code as a
// PNG), confirm with a code from the app (the answer holds the ten backup codes, shown once),
// new backup codes, and turning it off with the password and a code.
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText } from "../components";
import { usePoll } from "../usePoll";

type Enrolment = Schemas["EnrolmentPublic"];

/** The secret in groups of four, as authenticator apps show it and people type it. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

function CodeInput({ id, value, onChange, error }: { id: string; value: string; onChange: (v: string) => void; error: string | null }) {
  return (
    <label>
      Code from the app
      <input
        name="code"
        autoComplete="one-time-code"
        required
        maxLength={32}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}

export function TwoFactor({ onChanged }: { onChanged: () => void }) {
  const status = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/auth/2fa");
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    null,
    "2fa",
  );
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [offCode, setOffCode] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focusTarget = useRef<HTMLHeadingElement>(null);

  // Each new step takes the keyboard focus to its heading, where a screen reader reads on.
  const step = codes ? "codes" : enrolment ? "scan" : "status";
  useEffect(() => {
    if (step !== "status") focusTarget.current?.focus();
  }, [step]);

  const act = async (work: () => Promise<string | null>) => {
    setBusy(true);
    setError(null);
    try {
      setError(await work());
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const enrol = () =>
    act(async () => {
      const { data, error, response } = await api.POST("/api/v1/auth/2fa/enrol");
      if (!data) return errorMessage(error, response.status);
      setCode("");
      setEnrolment(data);
      return null;
    });

  const confirm = (event: FormEvent) => {
    event.preventDefault();
    return act(async () => {
      const { data, error, response } = await api.POST("/api/v1/auth/2fa/confirm", { body: { code: code.trim() } });
      if (!data) return errorMessage(error, response.status);
      setEnrolment(null);
      setCode("");
      setCodes(data.backup_codes);
      status.reload();
      onChanged();
      return null;
    });
  };

  const newCodes = (event: FormEvent) => {
    event.preventDefault();
    return act(async () => {
      const { data, error, response } = await api.POST("/api/v1/auth/2fa/backup-codes", { body: { code: code.trim() } });
      if (!data) return errorMessage(error, response.status);
      setCode("");
      setCodes(data.backup_codes);
      status.reload();
      return null;
    });
  };

  const turnOff = (event: FormEvent) => {
    event.preventDefault();
    return act(async () => {
      const { error, response } = await api.POST("/api/v1/auth/2fa/disable", {
        body: { password, code: offCode.trim() },
      });
      if (!response.ok) return errorMessage(error, response.status);
      setPassword("");
      setOffCode("");
      status.reload();
      onChanged();
      return null;
    });
  };

  const state = status.value;
  return (
    <section aria-labelledby="twofa-title">
      <h2 id="twofa-title">Two-factor authentication</h2>
      <ErrorText>{status.error}</ErrorText>
      {codes ? (
        <div className="secret">
          <h3 ref={focusTarget} tabIndex={-1}>
            Your backup codes
          </h3>
          <p>
            Each works once, in place of a code from the app, if you lose your phone. Store them somewhere safe now:
            they are not shown again.
          </p>
          <ol className="backup-codes" aria-label="Backup codes">
            {codes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ol>
          <button type="button" onClick={() => setCodes(null)}>
            I have stored the codes
          </button>
        </div>
      ) : enrolment ? (
        <form className="form-narrow" onSubmit={confirm} aria-labelledby="scan-title">
          <h3 id="scan-title" ref={focusTarget} tabIndex={-1}>
            Scan the QR code
          </h3>
          <p>Scan it with your authenticator app (Aegis, Google Authenticator, 1Password, …), then type the code it shows.</p>
          <img className="qr" src={`data:image/png;base64,${enrolment.qr_png}`} alt="QR code for your authenticator app" />
          <p>
            Cannot scan? Type this key into the app: <code className="secret-key">{grouped(enrolment.secret)}</code>
          </p>
          <CodeInput id="confirm" value={code} onChange={setCode} error={error} />
          <ErrorText id="confirm-error">{error}</ErrorText>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Confirm
            </button>
            <button type="button" className="secondary" onClick={() => setEnrolment(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : state && !state.enabled ? (
        <>
          <p>
            Off: signing in needs only the password. With it on, it also asks for a code from an app on your phone.
          </p>
          {state.enrolment_pending && (
            <p className="note">An earlier enrolment was not confirmed; turning it on starts again with a new QR code.</p>
          )}
          <ErrorText>{error}</ErrorText>
          <button type="button" disabled={busy} onClick={() => void enrol()}>
            Turn on two-factor authentication
          </button>
        </>
      ) : state ? (
        <>
          <p>
            On: signing in asks for a code from your app. Backup codes left: {state.backup_codes_left}. Trusted
            devices: {state.trusted_devices}.
          </p>
          <form className="form-narrow" onSubmit={newCodes} aria-labelledby="codes-title">
            <h3 id="codes-title">New backup codes</h3>
            <p className="note">The earlier ones stop working.</p>
            <CodeInput id="codes" value={code} onChange={setCode} error={null} />
            <button type="submit" disabled={busy}>
              Make new backup codes
            </button>
          </form>
          <form className="form-narrow" onSubmit={turnOff} aria-labelledby="off-title">
            <h3 id="off-title">Turn it off</h3>
            <p className="note">Your backup codes are deleted and every trusted device is forgotten.</p>
            <label>
              Current password
              <input
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <CodeInput id="off" value={offCode} onChange={setOffCode} error={null} />
            <button type="submit" className="danger" disabled={busy}>
              Turn off two-factor authentication
            </button>
          </form>
          <ErrorText>{error}</ErrorText>
        </>
      ) : null}
    </section>
  );
}
