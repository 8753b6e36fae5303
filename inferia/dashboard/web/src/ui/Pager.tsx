/** Previous / next for lists; `pageCount` null when the total is unknown (cursors). */
export function Pager({
  page,
  pageCount,
  hasNext,
  onPage,
  label = "Pages",
}: {
  page: number;
  pageCount: number | null;
  hasNext?: boolean;
  onPage: (page: number) => void;
  label?: string;
}) {
  const canNext = pageCount === null ? Boolean(hasNext) : page < pageCount;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>{pageCount === null ? `Page ${page}` : `Page ${page} of ${pageCount}`}</span>
      <button type="button" className="small" disabled={!canNext} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
