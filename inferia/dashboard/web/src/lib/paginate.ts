/** Client-side paging and filtering for the APIs that answer whole lists. */

export const PAGE_SIZE = 25;

export interface PageSlice<T> {
  items: T[];
  page: number;
  pageCount: number;
  total: number;
}

export function paginate<T>(items: readonly T[], page: number, size = PAGE_SIZE): PageSlice<T> {
  const pageCount = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(1, Math.floor(page)), pageCount);
  const start = (current - 1) * size;
  return { items: items.slice(start, start + size), page: current, pageCount, total: items.length };
}

/** Case-insensitive match of `needle` against any of the given fields. */
export function matches(needle: string, ...fields: (string | null | undefined)[]): boolean {
  const query = needle.trim().toLowerCase();
  if (!query) return true;
  return fields.some((field) => field?.toLowerCase().includes(query));
}
