import { describeError } from "../api/errors";

/** A failed call in words, with a retry when one can help. Never raw JSON. */
export function ErrorPanel({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div className="error-panel" role="alert">
      {title ? <strong>{title}</strong> : null}
      <p>{describeError(error)}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
