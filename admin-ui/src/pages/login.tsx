import { useState } from "preact/hooks";
import { ApiError, post, type Me } from "../api.js";

export function Login({ onLogin, setup }: { onLogin(me: Me): void; setup: boolean }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const me = setup ? await post<Me>("/api/setup", { token, user, password }) : await post<Me>("/api/login", { user, password });
      onLogin(me);
    } catch (err) {
      setError(err instanceof ApiError && err.reason === "GOMS_ERR_TOO_MANY_ATTEMPTS" ? "Too many failed attempts. Wait and try again." : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form class="card" onSubmit={submit}>
        <h1>goms admin</h1>
        {setup && <p class="muted">No users yet. Paste the one-time setup token that `goms admin` printed, and choose the first admin's name and password (10+ characters).</p>}
        {setup && (
          <label>
            Setup token
            <input name="token" value={token} onInput={(e) => setToken(e.currentTarget.value)} autoComplete="off" required />
          </label>
        )}
        <label>
          User
          <input name="user" value={user} onInput={(e) => setUser(e.currentTarget.value)} autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autoComplete={setup ? "new-password" : "current-password"} required />
        </label>
        {error && <div class="error" role="alert">{error}</div>}
        <button class="primary" type="submit" disabled={busy}>
          {setup ? "Create admin and sign in" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
