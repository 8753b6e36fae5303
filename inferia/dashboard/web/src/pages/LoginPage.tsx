import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { ApiError, describeError } from "../api/errors";
import { safeNext } from "../auth/RequireSession";
import { useSession } from "../auth/session";
import { checkEmail, checkTotp } from "../lib/validation";
import { Field } from "../ui/Field";
import { ThemeToggle } from "../ui/ThemeToggle";

export function LoginPage() {
  const { status, login, endedReason } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  // Shown once the server says this account needs a second factor.
  const [needsTotp, setNeedsTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (status === "signed-in") return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = checkEmail(email) ?? (password ? undefined : "Enter your password.") ?? (needsTotp ? checkTotp(totp) : undefined);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login({ email: email.trim(), password, ...(needsTotp ? { totp: totp.replace(/\s/g, "") } : {}) });
      navigate(next, { replace: true });
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === "totp_required") {
        setNeedsTotp(true);
      } else if (failure instanceof ApiError && failure.status === 401) {
        setError(needsTotp ? "Wrong e-mail, password or code." : "Wrong e-mail or password.");
      } else {
        setError(describeError(failure));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="auth-page">
      <div className="auth-corner">
        <ThemeToggle />
      </div>
      <main className="auth-card">
        <h1>Sign in to Inferia</h1>
        {endedReason ? (
          <p className="notice" role="status">
            {endedReason}
          </p>
        ) : null}
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field label="E-mail" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
          <Field
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
          {needsTotp ? (
            <Field
              label="Authentication code"
              hint="The 6-digit code from your authenticator app, or a recovery code."
              inputMode="numeric"
              autoComplete="one-time-code"
              autoFocus
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
          ) : null}
          {error ? (
            <p className="field-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </main>
    </div>
  );
}
