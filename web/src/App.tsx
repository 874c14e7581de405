import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { api } from "./api/client";
import { loadSession, onSessionChange, saveSession, type TokenPair } from "./api/session";
import { Login } from "./pages/Login";
import { RunDetail } from "./pages/RunDetail";
import { Runs } from "./pages/Runs";
import { Link, match, navigate, useLocation } from "./router";
import { ThemeToggle } from "./theme";
import { usePoll } from "./usePoll";

// Pages away from the runs are loaded when first opened, so the runs pages load less.
const Inbox = lazy(() => import("./pages/Inbox").then((m) => ({ default: m.Inbox })));
const Definitions = lazy(() => import("./pages/Definitions").then((m) => ({ default: m.Definitions })));
const DefinitionPage = lazy(() => import("./pages/Definitions").then((m) => ({ default: m.DefinitionPage })));
const Schedules = lazy(() => import("./pages/Schedules").then((m) => ({ default: m.Schedules })));
const Settings = lazy(() => import("./pages/Settings").then((m) => ({ default: m.Settings })));
const OidcCallback = lazy(() => import("./pages/OidcCallback").then((m) => ({ default: m.OidcCallback })));

/** Where the OIDC provider sends the browser back (STEPWISE_OIDC_REDIRECT_URI points here). */
export const OIDC_CALLBACK = "/oidc/callback";

export function App() {
  const [session, setSession] = useState<TokenPair | null>(loadSession);
  useEffect(() => onSessionChange(setSession), []);
  const url = useLocation();
  // Finishing an OIDC sign-in, signed in or not: the page saves the pair, then goes to the runs.
  if (url.pathname === OIDC_CALLBACK)
    return (
      <Suspense fallback={<p role="status">Signing in…</p>}>
        <OidcCallback />
      </Suspense>
    );
  if (session === null) return <Login />;
  return <SignedIn url={url} />;
}

function SignedIn({ url }: { url: URL }) {
  const main = useRef<HTMLElement>(null);
  const me = usePoll(async () => (await api.GET("/api/v1/users/me")).data, null, "me");
  const path = url.pathname;
  // A new page puts the keyboard focus at its start, where a screen reader starts reading.
  useEffect(() => main.current?.focus(), [path]);
  useEffect(() => {
    if (path === "/" || path === "/login") navigate("/runs", true);
  }, [path]);

  const signOut = async () => {
    const session = loadSession();
    if (session) await api.POST("/api/v1/auth/logout", { body: { refresh_token: session.refresh_token, all: false } }).catch(() => null);
    saveSession(null);
  };

  let page;
  let params: Record<string, string> | null;
  if (path === "/runs") page = <Runs query={url.searchParams} />;
  else if ((params = match("/runs/:id", path))) page = <RunDetail key={params.id} runId={params.id ?? ""} />;
  else if (path === "/inbox") page = <Inbox />;
  else if (path === "/definitions") page = <Definitions />;
  else if (path === "/schedules") page = <Schedules me={me.value ?? null} />;
  else if (path === "/settings") page = <Settings me={me.value ?? null} onChanged={me.reload} />;
  else if (path === "/definitions/new") page = <DefinitionPage key="new" name={null} />;
  else if ((params = match("/definitions/:name", path))) page = <DefinitionPage key={params.name} name={params.name ?? ""} />;
  else if (path === "/" || path === "/login") page = null;
  else page = <p>There is no page at {path}. <Link href="/runs">See the runs</Link>.</p>;

  const current = (prefix: string) => (path.startsWith(prefix) ? "page" : undefined);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <nav aria-label="Main">
          <Link href="/runs" className="brand">
            Stepwise
          </Link>
          <Link href="/runs" aria-current={current("/runs")}>
            Runs
          </Link>
          <Link href="/inbox" aria-current={current("/inbox")}>
            Inbox
          </Link>
          <Link href="/definitions" aria-current={current("/definitions")}>
            Definitions
          </Link>
          <Link href="/schedules" aria-current={current("/schedules")}>
            Schedules
          </Link>
          <Link href="/settings" aria-current={current("/settings")}>
            Settings
          </Link>
        </nav>
        <div className="who">
          <ThemeToggle />
          {me.value && <span>{me.value.username}</span>}
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>{page}</Suspense>
      </main>
    </>
  );
}
