import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { useApi } from "../auth/session";
import { cursorOf, firstPage, goTo } from "../lib/cursors";
import { formatMs, formatTime, shortId } from "../lib/format";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

/** Inference logs, newest first; bodies only for organisations that log them. */
export function LogsPage() {
  const api = useApi();
  const [model, setModel] = useState("");
  const [keyId, setKeyId] = useState("");
  const [withBodies, setWithBodies] = useState(false);
  const [trail, setTrail] = useState(firstPage);
  const [open, setOpen] = useState<string | null>(null);
  const query = { limit: 50, model: model.trim(), key_id: keyId.trim(), include_bodies: withBodies || undefined, cursor: cursorOf(trail) };
  const logs = useQuery({ queryKey: ["logs", query], queryFn: () => api.logs(query), placeholderData: keepPreviousData });
  const reset = () => setTrail(firstPage());

  return (
    <section>
      <PageHeader title="Inference logs" />
      <div className="toolbar">
        <Field label="Model" value={model} onChange={(e) => (setModel(e.target.value), reset())} />
        <Field label="Key id" value={keyId} onChange={(e) => (setKeyId(e.target.value), reset())} />
        <label className="checkbox">
          <input type="checkbox" checked={withBodies} onChange={(e) => setWithBodies(e.target.checked)} /> Include bodies
        </label>
      </div>
      <QueryView query={logs}>
        {(page) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Model</th>
                  <th scope="col">Status</th>
                  <th scope="col">Tokens in / out</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Key</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((log) => (
                  <Fragment key={log.id}>
                    <tr>
                      <td>{formatTime(log.created_at)}</td>
                      <td>{log.model}</td>
                      <td className={log.status >= 400 ? "bad" : undefined}>
                        {log.status}
                        {log.error_code ? ` ${log.error_code}` : ""}
                      </td>
                      <td>
                        {log.prompt_tokens} / {log.completion_tokens}
                      </td>
                      <td>{formatMs(log.latency_ms)}</td>
                      <td>{shortId(log.key_id)}</td>
                      <td>
                        <button type="button" className="link" aria-expanded={open === log.id} onClick={() => setOpen(open === log.id ? null : log.id)}>
                          {log.request_id}
                        </button>
                      </td>
                    </tr>
                    {open === log.id ? (
                      <tr>
                        <td colSpan={7}>
                          <dl className="facts">
                            <dt>API</dt>
                            <dd>{log.api}{log.stream ? " (streamed)" : ""}</dd>
                            <dt>Deployment</dt>
                            <dd>{log.deployment ?? "-"}</dd>
                            <dt>Time to first token</dt>
                            <dd>{formatMs(log.ttft_ms)}</dd>
                            <dt>Request body</dt>
                            <dd><pre>{log.request_body ?? "not logged"}</pre></dd>
                            <dt>Response body</dt>
                            <dd><pre>{log.response_body ?? "not logged"}</pre></dd>
                          </dl>
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                ))}
              </tbody>
            </table>
            {page.data.length === 0 ? <p className="muted">No requests logged{model || keyId ? " match the filter" : " yet"}.</p> : null}
            <Pager page={trail.page} pageCount={null} hasNext={Boolean(page.next_cursor)} onPage={(p) => setTrail(goTo(trail, p, page.next_cursor))} />
          </>
        )}
      </QueryView>
    </section>
  );
}
