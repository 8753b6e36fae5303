import { NavLink, Outlet } from "react-router";
import { describeError } from "../api/errors";
import { useSession } from "../auth/session";
import { useState } from "react";
import { ThemeToggle } from "./ThemeToggle";

interface NavItem {
  to: string;
  label: string;
  /** The read permission the page needs; the link is hidden without it. */
  permission?: string;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Overview" },
  { to: "/playground", label: "Playground" },
  { to: "/api-keys", label: "API keys", permission: "api_keys:read" },
  { to: "/models", label: "Models", permission: "models:read" },
  { to: "/deployments", label: "Deployments", permission: "deployments:read" },
  { to: "/registry", label: "Model registry", permission: "deployments:read" },
  { to: "/pools", label: "Compute pools", permission: "pools:read" },
  { to: "/nodes", label: "Compute nodes", permission: "pools:read" },
  { to: "/templates", label: "Prompt templates", permission: "templates:read" },
  { to: "/knowledge-bases", label: "Knowledge bases", permission: "knowledge_bases:read" },
  { to: "/limits", label: "Limits", permission: "policies:read" },
  { to: "/guardrails", label: "Guardrails", permission: "guardrails:read" },
  { to: "/usage", label: "Usage", permission: "usage:read" },
  { to: "/logs", label: "Inference logs", permission: "audit:read" },
  { to: "/members", label: "Members", permission: "members:read" },
  { to: "/audit", label: "Audit log", permission: "audit:read" },
];

function OrganizationSwitcher() {
  const { me, switchOrg } = useSession();
  const [error, setError] = useState<unknown>(null);
  if (!me) return null;
  const organizations = me.organizations.filter((org) => org.active);
  if (organizations.length <= 1) {
    const current = organizations[0];
    return <span className="org-name">{current?.name ?? "Organisation"}</span>;
  }
  return (
    <span className="org-switcher">
      <label htmlFor="org-switcher" className="visually-hidden">
        Organisation
      </label>
      <select
        id="org-switcher"
        value={me.organization_id}
        onChange={(event) => {
          setError(null);
          switchOrg(event.target.value).catch(setError);
        }}
      >
        {organizations.map((org) => (
          <option key={org.id} value={org.id}>
            {org.name}
          </option>
        ))}
      </select>
      {error ? <span className="field-error">{describeError(error)}</span> : null}
    </span>
  );
}

export function Layout() {
  const { me, can, logout } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">Inferia</div>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.permission || can(item.permission)).map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === "/"}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <div className="main-column">
        <header className="topbar">
          <OrganizationSwitcher />
          <div className="topbar-right">
            <ThemeToggle />
            <NavLink to="/account" className="user-link">
              {me?.email}
              {me ? <span className="muted"> ({me.role})</span> : null}
            </NavLink>
            <button type="button" className="small" onClick={() => void logout()}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
