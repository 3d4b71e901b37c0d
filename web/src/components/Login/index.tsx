import { useState } from "preact/hooks";
import { errorText } from "../../lib/errors";
import { useSession } from "../../stores/context";

export function Login() {
  const session = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(email.trim(), password);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <div class="login-card">
        <div class="brand brand-lg">
          <span class="brand-mark" aria-hidden="true">P</span>
          <span class="brand-name">Parlour</span>
        </div>
        <h1>Sign in to your inbox</h1>
        <p class="muted">SMS, web chat and email — every conversation in one place.</p>
        <form class="form" onSubmit={submit}>
          <label class="field">
            <span>Email</span>
            <input type="email" autoComplete="username" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} autoFocus />
          </label>
          <label class="field">
            <span>Password</span>
            <input type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          </label>
          {error ? (
            <p class="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
