/** Light and dark themes: the system's preference until the user picks one. The
 * choice is a preference, not a secret, so it may live in localStorage. */

export type Theme = "light" | "dark";
const KEY = "inferia.theme";

export function initialTheme(): Theme {
  const saved = globalThis.localStorage?.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme, persist = false): void {
  document.documentElement.dataset.theme = theme;
  if (persist) localStorage.setItem(KEY, theme);
}
