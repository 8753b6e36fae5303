import { QRCodeSVG } from "qrcode.react";
import { useState, type FormEvent } from "react";
import { ApiError, describeError } from "../api/errors";
import type { TotpSetup } from "../api/types";
import { useApi, useSession } from "../auth/session";
import { checkTotp } from "../lib/validation";
import { CopyButton } from "../ui/CopyButton";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";

/** Two-factor enrolment: QR code of the otpauth URI, a first code, then the recovery
 * codes, shown once. */
function TwoFactorEnrolment({ onEnabled }: { onEnabled: () => void }) {
  const api = useApi();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState("");
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setError(null);
    try {
      setSetup(await api.totpSetup());
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  const verify = async (event: FormEvent) => {
    event.preventDefault();
    const problem = checkTotp(code);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      setRecoveryCodes((await api.totpVerify(code.replace(/\s/g, ""))).recovery_codes);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  if (recoveryCodes) {
    return (
      <div className="card">
        <h2>Two-factor authentication is on</h2>
        <p>
          Keep these recovery codes somewhere safe. Each signs you in once without your authenticator. They are shown
          only now.
        </p>
        <ul className="codes" aria-label="Recovery codes">
          {recoveryCodes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ul>
        <div className="actions">
          <CopyButton text={recoveryCodes.join("\n")} label="Copy the codes" />
          <button type="button" className="primary" onClick={onEnabled}>
            I have saved them
          </button>
        </div>
      </div>
    );
  }
  if (!setup) {
    return (
      <div className="card">
        <h2>Two-factor authentication</h2>
        <p>Protect your account with a code from an authenticator app at each sign-in.</p>
        {error ? <p className="field-error" role="alert">{error}</p> : null}
        <button type="button" className="primary" onClick={() => void start()}>
          Set up two-factor authentication
        </button>
      </div>
    );
  }
  return (
    <div className="card">
      <h2>Scan this code</h2>
      <p>Scan it with your authenticator app, or type the secret in, then enter the code it shows.</p>
      <div className="qr">
        <QRCodeSVG value={setup.otpauth_uri} size={184} marginSize={2} title="QR code of the authenticator secret" />
      </div>
      <p>
        Secret: <code data-testid="totp-secret">{setup.secret}</code> <CopyButton text={setup.secret} />
      </p>
      <form onSubmit={(event) => void verify(event)} noValidate>
        <Field label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
        {error ? <p className="field-error" role="alert">{error}</p> : null}
        <button type="submit" className="primary" disabled={busy}>
          Turn on
        </button>
      </form>
    </div>
  );
}

/** Turning 2FA off asks for the password and a current code (or a recovery code). */
function TwoFactorDisable({ onDisabled }: { onDisabled: () => void }) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = (password ? undefined : "Enter your password.") ?? checkTotp(code);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      await api.totpDisable(password, code.replace(/\s/g, ""));
      setOpen(false);
      onDisabled();
    } catch (failure) {
      // The API answers a wrong password or code with 403: say which, not "permission".
      setError(failure instanceof ApiError && failure.status === 403 ? `${failure.message.replace(/^./, (c) => c.toUpperCase())}.` : describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <div className="card">
        <h2>Two-factor authentication is on</h2>
        <p>Each sign-in asks for a code from your authenticator app.</p>
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Turn off two-factor authentication
        </button>
      </div>
    );
  }
  return (
    <div className="card">
      <h2>Turn off two-factor authentication</h2>
      <p>Your account will be protected by its password only. Confirm with your password and a current code.</p>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        <Field
          label="Authentication code"
          hint="The 6-digit code from your authenticator app, or a recovery code."
          inputMode="numeric"
          autoComplete="one-time-code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
        {error ? <p className="field-error" role="alert">{error}</p> : null}
        <div className="actions">
          <button type="button" onClick={() => (setOpen(false), setError(null))}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            Turn off
          </button>
        </div>
      </form>
    </div>
  );
}

export function AccountPage() {
  const { me, reloadMe } = useSession();
  const [enrolling, setEnrolling] = useState(false);
  if (!me) return null;
  return (
    <section>
      <PageHeader title="Your account" />
      <dl className="facts">
        <dt>E-mail</dt>
        <dd>{me.email}</dd>
        <dt>Role</dt>
        <dd>{me.role}</dd>
        <dt>Two-factor authentication</dt>
        <dd>{me.totp_enabled ? "On" : "Off"}</dd>
      </dl>
      {!me.totp_enabled || enrolling ? (
        <TwoFactorEnrolment
          onEnabled={() => {
            setEnrolling(false);
            void reloadMe();
          }}
        />
      ) : (
        <TwoFactorDisable onDisabled={() => void reloadMe()} />
      )}
    </section>
  );
}
