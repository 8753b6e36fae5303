/** Page numbers over a cursor-paginated API: the cursors seen so far, so "Previous"
 * goes back without the API having to page backwards. */

export interface CursorTrail {
  /** cursors[i] opens page i + 1; page 1 has none. */
  cursors: (string | null)[];
  page: number;
}

export const firstPage = (): CursorTrail => ({ cursors: [null], page: 1 });

export function cursorOf(trail: CursorTrail): string | null {
  return trail.cursors[trail.page - 1] ?? null;
}

/** Moves to `page`; `next` is the current page's next_cursor (needed to go forward). */
export function goTo(trail: CursorTrail, page: number, next: string | null): CursorTrail {
  if (page < 1) return trail;
  if (page === trail.page + 1 && next) {
    // The current page's own next cursor wins over one remembered from before.
    return { cursors: [...trail.cursors.slice(0, trail.page), next], page };
  }
  if (page <= trail.cursors.length) return { cursors: trail.cursors, page };
  return trail;
}
