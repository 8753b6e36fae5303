import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading } from "../ui/Loading";
import { useSession } from "./session";

/** Pages behind the login: an anonymous visitor goes to /login, which brings them
 * back here (`next`) after signing in. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { status, signedOut } = useSession();
  const location = useLocation();
  if (status === "restoring") return <Loading label="Restoring your session" />;
  if (status === "anonymous" && signedOut) return <Navigate to="/login" replace />;
  if (status === "anonymous") {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

/** Only paths inside the dashboard are followed after login (no open redirect). */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
