import { useState } from "react";
import { describeError } from "../api/errors";
import { Dialog } from "./Dialog";

/** A destructive action: asks first, shows the API's refusal in words if any. */
export function ConfirmButton({
  label,
  question,
  confirmLabel = label,
  onConfirm,
  accessibleLabel,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown>;
  accessibleLabel?: string;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const close = () => {
    setOpen(false);
    setError(null);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      close();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="danger small" aria-label={accessibleLabel} onClick={() => setOpen(true)}>
        {label}
      </button>
      <Dialog open={open} title="Please confirm" onClose={close}>
        <p>{question}</p>
        {error ? (
          <p className="field-error" role="alert">
            {describeError(error)}
          </p>
        ) : null}
        <div className="actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => void confirm()}>
            {confirmLabel}
          </button>
        </div>
      </Dialog>
    </>
  );
}
