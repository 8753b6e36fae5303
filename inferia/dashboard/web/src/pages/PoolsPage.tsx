import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import type { PoolRecord } from "../api/types";
import { useApi, useCan, useSession } from "../auth/session";
import { blankPool, poolFromDraft, stateTone } from "../lib/deployments";
import { formatTime, formatUsd } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, TextArea } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";
import { useDraftForm } from "../ui/useDraftForm";

function PoolForm({ onSaved }: { onSaved: (pool: PoolRecord) => void }) {
  const api = useApi();
  const { draft, set, errorOf, formError, busy, onSubmit } = useDraftForm(blankPool, poolFromDraft, api.createPool, onSaved);
  return (
    <form onSubmit={onSubmit} noValidate>
      <Field label="Pool name" value={draft.name} error={errorOf("name")} onChange={(e) => set({ name: e.target.value })} />
      <Field
        label="Provider"
        hint="The compute adapter: local, onprem, kubernetes, skypilot, nosana, akash (if installed)."
        value={draft.provider}
        error={errorOf("provider")}
        onChange={(e) => set({ provider: e.target.value })}
      />
      <TextArea
        label="Configuration (JSON)"
        hint="The adapter's settings, checked by the adapter. Empty = its defaults."
        placeholder='{"max_replicas": 2}'
        value={draft.config}
        error={errorOf("config")}
        onChange={(e) => set({ config: e.target.value })}
      />
      <TextArea
        label="Credentials (JSON, write-only)"
        hint="Sealed at rest and never shown again."
        autoComplete="off"
        value={draft.credentials}
        error={errorOf("credentials")}
        onChange={(e) => set({ credentials: e.target.value })}
      />
      <div className="row">
        <Field label="Minimum nodes" inputMode="numeric" value={draft.min_nodes} error={errorOf("min_nodes")} onChange={(e) => set({ min_nodes: e.target.value })} />
        <Field label="Maximum nodes" inputMode="numeric" value={draft.max_nodes} error={errorOf("max_nodes")} onChange={(e) => set({ max_nodes: e.target.value })} />
        <Field
          label="Maximum cost per hour (USD)"
          inputMode="decimal"
          value={draft.max_cost_per_hour}
          error={errorOf("max_cost_per_hour")}
          onChange={(e) => set({ max_cost_per_hour: e.target.value })}
        />
      </div>
      <Field label="Allowed GPU types" hint="Comma-separated; empty = any." value={draft.allowed_gpu_types} onChange={(e) => set({ allowed_gpu_types: e.target.value })} />
      <Field label="Regions" hint="Comma-separated; empty = any." value={draft.regions} onChange={(e) => set({ regions: e.target.value })} />
      {formError ? (
        <p className="field-error" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Create pool
        </button>
      </div>
    </form>
  );
}

export function PoolsPage() {
  const api = useApi();
  const can = useCan();
  const { me } = useSession();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const organizationId = me?.organization_id ?? "";
  const pools = useQuery({ queryKey: ["pools", organizationId], queryFn: () => api.pools(organizationId), enabled: Boolean(organizationId) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["pools"] });
  return (
    <section>
      <PageHeader title="Compute pools">
        {can("pools:write") ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create pool
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">Where deployments run: each pool names a compute adapter and its settings.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="name or provider" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={pools}>
        {({ data }) => {
          const shown = paginate(
            data.filter((p) => matches(filter, p.name, p.provider, p.state)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Provider</th>
                    <th scope="col">State</th>
                    <th scope="col">Nodes</th>
                    <th scope="col">Cost cap</th>
                    <th scope="col">Credentials</th>
                    <th scope="col">Created</th>
                    {can("pools:write") ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((pool) => (
                    <tr key={pool.id}>
                      <td className="keep">
                        {pool.name}
                        {pool.regions.length ? <div className="muted">{pool.regions.join(", ")}</div> : null}
                      </td>
                      <td>{pool.provider}</td>
                      <td>
                        <span className={`state ${stateTone(pool.state)}`}>{pool.state}</span>
                      </td>
                      <td>
                        {pool.min_nodes}–{pool.max_nodes}
                        <div>
                          <Link to={`/nodes?pool=${encodeURIComponent(pool.id)}`} aria-label={`Nodes of ${pool.name}`}>
                            list
                          </Link>
                        </div>
                      </td>
                      <td>{pool.max_cost_per_hour === null ? "-" : `${formatUsd(pool.max_cost_per_hour)}/h`}</td>
                      <td>{pool.has_credentials ? "stored" : "none"}</td>
                      <td>{formatTime(pool.created_at)}</td>
                      {can("pools:write") ? (
                        <td>
                          <ConfirmButton
                            label="Delete"
                            accessibleLabel={`Delete pool ${pool.name}`}
                            question={`Delete the pool "${pool.name}"? A pool that deployments use cannot be deleted: terminate them first.`}
                            onConfirm={async () => {
                              await api.deletePool(pool.id);
                              await refresh();
                            }}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No pools{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={creating} title="Create a compute pool" onClose={() => setCreating(false)}>
        <PoolForm
          onSaved={() => {
            setCreating(false);
            void refresh();
          }}
        />
      </Dialog>
    </section>
  );
}
