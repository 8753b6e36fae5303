import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, describeError } from "../api/errors";
import { useApi } from "../auth/session";
import { checkPassword, checkTotp } from "../lib/validation";
import { Field } from "../ui/Field";

/** /accept-invite?token=...: the link an invitation's token is sent in. */
export function AcceptInvitePage() {
  const api = useApi();
  const [params] = useSearchParams();
  const [token, setToken] = useState(params.get("token") ?? "");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [totp, setTotp] = useState("");
  // Shown once the server says the existing account has 2FA.
  const [needsTotp, setNeedsTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [accepted, setAccepted] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem =
      (token.trim() ? undefined : "Paste the invitation token.") ??
      (needsTotp ? (password ? undefined : "Enter your password.") : checkPassword(password, confirm)) ??
      (needsTotp ? checkTotp(totp) : undefined);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api.acceptInvite(token.trim(), password, needsTotp ? totp.replace(/\s/g, "") : undefined);
      setAccepted(result.email);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === "totp_required") {
        setNeedsTotp(true);
        setError("This account has two-factor authentication: enter the code from your authenticator app.");
      } else {
        setError(describeError(failure));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="auth-page">
      <main className="auth-card">
        <h1>Accept an invitation</h1>
        {accepted ? (
          <>
            <p role="status">You have joined as {accepted}.</p>
            <Link to="/login">Sign in</Link>
          </>
        ) : (
          <form onSubmit={(event) => void submit(event)} noValidate>
            <Field label="Invitation token" value={token} onChange={(e) => setToken(e.target.value)} />
            <Field
              label="Password"
              type="password"
              autoComplete="new-password"
              hint="At least 12 characters. For an existing account, its current password."
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            {needsTotp ? (
              <Field
                label="Authentication code"
                hint="The 6-digit code from your authenticator app, or a recovery code."
                inputMode="numeric"
                autoComplete="one-time-code"
                value={totp}
                onChange={(e) => setTotp(e.target.value)}
              />
            ) : (
              <Field label="Repeat the password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
            )}
            {error ? (
              <p className="field-error" role="alert">
                {error}
              </p>
            ) : null}
            <button type="submit" className="primary" disabled={busy}>
              Accept
            </button>
          </form>
        )}
      </main>
    </div>
  );
}
