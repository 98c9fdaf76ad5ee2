import { type FormEvent, useState } from "react";
import { request } from "../api.js";
import { navigate } from "../hooks.js";
import { useSession } from "../session.js";
import { ErrorNote, Link } from "../ui.js";

interface SessionResponse {
  api_key: { key: string };
}

type Mode = "login" | "signup" | "key";

/** Sign up, log in with email and password, or (operators) log in with an API key. */
export function AuthPage({ mode }: { mode: Mode }) {
  const { signIn } = useSession();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      let key = String(form.get("api_key") ?? "").trim();
      if (mode !== "key") {
        const body: Record<string, string> = {
          email: String(form.get("email") ?? "").trim(),
          password: String(form.get("password") ?? ""),
        };
        const name = String(form.get("name") ?? "").trim();
        if (mode === "signup" && name) body.name = name;
        // Sign-up makes the account (and its first API key, listed under API keys); the console itself always
        // runs on a short-lived session token from a log-in, which never clutters the key list.
        if (mode === "signup") await request<SessionResponse>("POST", "/auth/register", body, null);
        const res = await request<SessionResponse>(
          "POST",
          "/auth/login",
          { email: body.email, password: body.password },
          null,
        );
        key = res.data.api_key.key;
      }
      const me = await signIn(key);
      navigate(me.operator ? "/operator" : "/instances", true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const titles: Record<Mode, string> = {
    login: "Log in",
    signup: "Create your account",
    key: "Log in with an API key",
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand big">
          <span className="logo" aria-hidden="true" />
          gpuplane
        </div>
        <h1>{titles[mode]}</h1>
        {mode === "signup" && (
          <p className="muted">Rent H100s, H200s and B200s by the second. New accounts get credit.</p>
        )}
        <form onSubmit={submit} className="stack">
          {mode === "key" ? (
            <label>
              API key
              <input name="api_key" autoComplete="off" required placeholder="gpk_…" spellCheck={false} />
            </label>
          ) : (
            <>
              {mode === "signup" && (
                <label>
                  <span>
                    Name <span className="muted">(optional)</span>
                  </span>
                  <input name="name" autoComplete="organization" placeholder="Acme AI" />
                </label>
              )}
              <label>
                Email
                <input name="email" type="email" autoComplete="email" required />
              </label>
              <label>
                Password
                <input
                  name="password"
                  type="password"
                  minLength={8}
                  required
                  autoComplete={mode === "signup" ? "new-password" : "current-password"}
                />
              </label>
            </>
          )}
          <ErrorNote error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {mode === "signup" ? "Sign up" : "Log in"}
          </button>
        </form>
        <nav className="auth-links">
          {mode !== "login" && <Link to="/login">Log in with email</Link>}
          {mode !== "signup" && <Link to="/signup">Create an account</Link>}
          {mode !== "key" && <Link to="/login/key">Use an API key</Link>}
        </nav>
      </div>
    </main>
  );
}
