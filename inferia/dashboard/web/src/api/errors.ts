/** Every failure of an API call, as one error type the pages can put into words. */

export type ApiErrorKind = "http" | "network" | "timeout";

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ErrorEnvelope {
  error?: { message?: unknown; code?: unknown; param?: unknown };
  detail?: unknown;
}

function asText(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** An HTTP error response -> ApiError; the body is the OpenAI-style envelope when the
 * server sent one, anything else (HTML from a proxy, nothing) is described by status. */
export function errorFromResponse(status: number, body: unknown, retryAfter: string | null): ApiError {
  const envelope = (typeof body === "object" && body !== null ? body : {}) as ErrorEnvelope;
  const message = asText(envelope.error?.message) ?? asText(envelope.detail) ?? `HTTP ${status}`;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  return new ApiError("http", status, message, asText(envelope.error?.code), asText(envelope.error?.param), seconds);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** What a person reads when a call failed: never raw JSON, always a next step. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? sentence(error.message) : "Something went wrong.";
  }
  switch (error.kind) {
    case "network":
      return "The server could not be reached. Check that inferia serve is running, then retry.";
    case "timeout":
      return "The server did not answer in time. Retry in a moment.";
    case "http":
      break;
  }
  const field = error.param ? ` (field: ${error.param})` : "";
  switch (error.status) {
    case 401:
      return error.code === "totp_required"
        ? "Enter the 6-digit code from your authenticator app."
        : sentence(error.message);
    case 403:
      return `You do not have permission to do this. ${sentence(error.message)}`;
    case 404:
      return `Not found: ${sentence(error.message)} It may have been deleted, or belong to another organisation.`;
    case 409:
      return `Conflict: ${sentence(error.message)}`;
    case 429: {
      const wait = error.retryAfterS !== null ? ` Try again in ${error.retryAfterS} s.` : "";
      return `Too many requests: ${sentence(error.message)}${wait}`;
    }
  }
  if (error.status >= 500) {
    return `The server failed (HTTP ${error.status}). Retry in a moment; if it keeps failing, check the server log.`;
  }
  return `${sentence(error.message)}${field}`;
}
