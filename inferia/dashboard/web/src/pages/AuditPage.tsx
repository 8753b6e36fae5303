import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useApi, useCan } from "../auth/session";
import { cursorOf, firstPage, goTo } from "../lib/cursors";
import { formatTime, shortId } from "../lib/format";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

function detailText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** datetime-local -> ISO for the API's since/until; blank stays blank. */
function isoOrBlank(value: string): string {
  const time = Date.parse(value);
  return value && !Number.isNaN(time) ? new Date(time).toISOString() : "";
}

export function AuditPage() {
  const api = useApi();
  const can = useCan();
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [target, setTarget] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [trail, setTrail] = useState(firstPage);
  const members = useQuery({ queryKey: ["members"], queryFn: api.members, enabled: can("members:read") });
  const email = (id: string | null) => members.data?.data.find((m) => m.user_id === id)?.email ?? shortId(id);
  const query = {
    limit: 50,
    actor: actor.trim(),
    action: action.trim(),
    target: target.trim(),
    since: isoOrBlank(since),
    until: isoOrBlank(until),
    cursor: cursorOf(trail),
  };
  const audit = useQuery({ queryKey: ["audit", query], queryFn: () => api.audit(query), placeholderData: keepPreviousData });
  const filter = (set: (value: string) => void) => (event: { target: { value: string } }) => {
    set(event.target.value);
    setTrail(firstPage());
  };

  return (
    <section>
      <PageHeader title="Audit log" />
      <div className="toolbar">
        <Field label="Action" placeholder="api_key.*" value={action} onChange={filter(setAction)} />
        <Field label="Actor id" value={actor} onChange={filter(setActor)} />
        <Field label="Target" value={target} onChange={filter(setTarget)} />
        <Field label="Since" type="datetime-local" value={since} onChange={filter(setSince)} />
        <Field label="Until" type="datetime-local" value={until} onChange={filter(setUntil)} />
      </div>
      <QueryView query={audit}>
        {(page) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((record) => (
                  <tr key={record.id}>
                    <td>{formatTime(record.created_at)}</td>
                    <td>{email(record.actor_id)}</td>
                    <td>
                      <code>{record.action}</code>
                    </td>
                    <td className={record.outcome === "success" ? undefined : "bad"}>{record.outcome}</td>
                    <td>{record.target ?? "-"}</td>
                    <td>
                      <ul className="details">
                        {Object.entries(record.details).map(([key, value]) => (
                          <li key={key}>
                            {key}: {detailText(value)}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.data.length === 0 ? <p className="muted">No audit entries match.</p> : null}
            <Pager page={trail.page} pageCount={null} hasNext={Boolean(page.next_cursor)} onPage={(p) => setTrail(goTo(trail, p, page.next_cursor))} />
          </>
        )}
      </QueryView>
    </section>
  );
}
