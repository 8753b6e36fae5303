import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <Link to="/">Back to the overview</Link>
    </section>
  );
}
