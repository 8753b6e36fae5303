/** Form checks run before a request is sent: the same rules the API enforces, so a
 * mistake is named next to its field; the API still has the last word. */

import { LIMIT_FIELDS, type LimitField, type LimitValues } from "../api/types";

export type Errors<K extends string> = Partial<Record<K, string>>;

export function hasErrors(errors: Errors<string>): boolean {
  return Object.values(errors).some(Boolean);
}

export const PASSWORD_MIN_LENGTH = 12;

export function checkEmail(value: string): string | undefined {
  return /^[^\s@]+@[^\s@]+$/.test(value.trim()) ? undefined : "Enter an e-mail address.";
}

export function checkPassword(value: string, confirm?: string): string | undefined {
  if (value.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (confirm !== undefined && confirm !== value) return "The passwords do not match.";
  return undefined;
}

export function checkTotp(value: string): string | undefined {
  const code = value.replace(/\s/g, "");
  // Six digits, or a recovery code (letters, digits and dashes).
  return /^\d{6}$/.test(code) || /^[A-Za-z0-9-]{8,}$/.test(code) ? undefined : "Enter the 6-digit code.";
}

export function checkName(value: string, max = 200): string | undefined {
  const name = value.trim();
  if (!name) return "Enter a name.";
  if (name.length > max) return `At most ${max} characters.`;
  return undefined;
}

/** A date-time-local input value -> ISO string; it must lie in the future. */
export function checkExpiry(value: string, now = Date.now()): { iso: string | null; error?: string } {
  if (!value) return { iso: null };
  const time = Date.parse(value);
  if (Number.isNaN(time)) return { iso: null, error: "Enter a date and time." };
  if (time <= now) return { iso: null, error: "The expiry must be in the future." };
  return { iso: new Date(time).toISOString() };
}

export function checkBaseUrl(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? undefined : "Use an http:// or https:// URL.";
  } catch {
    return "Enter a URL such as https://api.example.com/v1.";
  }
}

const BUDGETS: ReadonlySet<LimitField> = new Set(["daily_budget", "monthly_budget"]);

/** Text inputs of a limit form -> LimitValues: blank = not set (inherits), 0 = no
 * limit; counts are whole numbers, budgets USD; longer windows hold at least the
 * shorter ones' amounts. */
export function parseLimits(input: Partial<Record<LimitField, string>>): {
  limits: LimitValues;
  errors: Errors<LimitField>;
} {
  const limits: LimitValues = {};
  const errors: Errors<LimitField> = {};
  for (const field of LIMIT_FIELDS) {
    const raw = (input[field] ?? "").trim();
    if (!raw) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      errors[field] = "Enter a number of 0 or more.";
    } else if (!BUDGETS.has(field) && !Number.isInteger(value)) {
      errors[field] = "Enter a whole number.";
    } else {
      limits[field] = value;
    }
  }
  const { tpm, daily_tokens: daily, monthly_tokens: monthly } = limits;
  if (tpm && daily && daily < tpm) errors.daily_tokens = "Daily tokens cannot be fewer than tokens per minute.";
  if (daily && monthly && monthly < daily) errors.monthly_tokens = "Monthly tokens cannot be fewer than daily tokens.";
  const { daily_budget: dailyBudget, monthly_budget: monthlyBudget } = limits;
  if (dailyBudget && monthlyBudget && monthlyBudget < dailyBudget) {
    errors.monthly_budget = "The monthly budget cannot be smaller than the daily one.";
  }
  return { limits, errors };
}

/** "a, b\nc" -> ["a", "b", "c"]: lists typed into one field. */
export function splitList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
}
