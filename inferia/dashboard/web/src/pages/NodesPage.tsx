import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import type { PoolRecord, RegisteredNode } from "../api/types";
import { useApi, useCan, useSession } from "../auth/session";
import { formatTime } from "../lib/format";
import { blankNode, formatNodeResources, heartbeatAge, nodeFromDraft, nodeTone } from "../lib/nodes";
import { matches, paginate } from "../lib/paginate";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CopyButton } from "../ui/CopyButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";
import { useDraftForm } from "../ui/useDraftForm";

/** Heartbeats move the states and times: the list follows them. */
const POLL_MS = 10_000;

function NodeForm({ pools, poolId, onSaved }: { pools: PoolRecord[]; poolId: string; onSaved: (node: RegisteredNode) => void }) {
  const api = useApi();
  const { draft, set, errorOf, formError, busy, onSubmit } = useDraftForm(() => blankNode(poolId || pools[0]?.id), nodeFromDraft, api.registerNode, onSaved);
  return (
    <form onSubmit={onSubmit} noValidate>
      <Select label="Pool" value={draft.pool_id} options={pools.map((p) => ({ value: p.id, label: p.name }))} onChange={(pool_id) => set({ pool_id })} />
      {errorOf("pool_id") ? <p className="field-error">{errorOf("pool_id")}</p> : null}
      <Field
        label="Provider instance id"
        hint="The machine's id at its provider, if any."
        value={draft.provider_instance_id}
        error={errorOf("provider_instance_id")}
        onChange={(e) => set({ provider_instance_id: e.target.value })}
      />
      <Field
        label="Endpoint"
        placeholder="http://10.0.0.5:8000"
        hint="Where the node's model servers answer; the node may report it in its heartbeats instead."
        value={draft.endpoint}
        error={errorOf("endpoint")}
        onChange={(e) => set({ endpoint: e.target.value })}
      />
      <Field label="GPUs" placeholder="A100=2, L4=1" hint="type=count, comma-separated; empty = none." value={draft.gpus} error={errorOf("gpus")} onChange={(e) => set({ gpus: e.target.value })} />
      <div className="row">
        <Field label="GPU memory (GB)" inputMode="decimal" value={draft.gpu_memory_gb} error={errorOf("gpu_memory_gb")} onChange={(e) => set({ gpu_memory_gb: e.target.value })} />
        <Field label="CPUs" inputMode="decimal" value={draft.cpus} error={errorOf("cpus")} onChange={(e) => set({ cpus: e.target.value })} />
        <Field label="Memory (GB)" inputMode="decimal" value={draft.memory_gb} error={errorOf("memory_gb")} onChange={(e) => set({ memory_gb: e.target.value })} />
      </div>
      {formError ? (
        <p className="field-error" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Register node
        </button>
      </div>
    </form>
  );
}

function NodeToken({ registered, onDone }: { registered: RegisteredNode; onDone: () => void }) {
  return (
    <div>
      <p>
        Copy the node's token now: it is shown only once. The node sends it as <code>authorization: Bearer …</code> with its
        heartbeats to <code>/inventory/heartbeat</code>.
      </p>
      <p className="secret">
        <code data-testid="node-token">{registered.token}</code>
      </p>
      <div className="actions">
        <CopyButton text={registered.token} label="Copy token" />
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function NodesPage() {
  const api = useApi();
  const can = useCan();
  const { me } = useSession();
  const queryClient = useQueryClient();
  // /nodes?pool=<id>: the pools page links each pool's nodes.
  const [params, setParams] = useSearchParams();
  const poolId = params.get("pool") ?? "";
  const setPoolId = (value: string) => setParams(value ? { pool: value } : {}, { replace: true });
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [registering, setRegistering] = useState(false);
  const [registered, setRegistered] = useState<RegisteredNode | null>(null);
  const organizationId = me?.organization_id ?? "";
  const pools = useQuery({ queryKey: ["pools", organizationId], queryFn: () => api.pools(organizationId), enabled: Boolean(organizationId) });
  const nodes = useQuery({ queryKey: ["nodes", poolId], queryFn: () => api.nodes(poolId || undefined), refetchInterval: POLL_MS });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["nodes"] });
  const poolList = pools.data?.data ?? [];
  const poolName = (id: string) => poolList.find((p) => p.id === id)?.name ?? id;
  const mayWrite = can("pools:write");
  const close = () => {
    setRegistering(false);
    setRegistered(null);
  };
  return (
    <section>
      <PageHeader title="Compute nodes">
        {mayWrite ? (
          <button type="button" className="primary" disabled={poolList.length === 0} onClick={() => setRegistering(true)}>
            Register node
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">
        Machines of the pools that report their capacity by heartbeat: a silent node turns UNKNOWN, then LOST.
        {mayWrite && pools.isSuccess && poolList.length === 0 ? " Create a compute pool first." : ""}
      </p>
      <div className="toolbar">
        <Select
          label="Pool"
          value={poolId}
          options={[{ value: "", label: "All pools" }, ...poolList.map((p) => ({ value: p.id, label: p.name }))]}
          onChange={(value) => (setPoolId(value), setPage(1))}
        />
        <Field label="Filter" placeholder="id, state or endpoint" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={nodes}>
        {({ data }) => {
          const shown = paginate(
            data.filter((n) => matches(filter, n.id, n.state, n.endpoint ?? "", n.provider_instance_id, poolName(n.pool_id))),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">Pool</th>
                    <th scope="col">State</th>
                    <th scope="col">Last heartbeat</th>
                    <th scope="col">Capacity</th>
                    <th scope="col">Allocated</th>
                    <th scope="col">Replicas</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((node) => (
                    <tr key={node.id}>
                      <td className="keep">
                        <code>{node.id}</code>
                        {node.provider_instance_id ? <div className="muted">{node.provider_instance_id}</div> : null}
                        {node.endpoint ? <div className="muted">{node.endpoint}</div> : null}
                      </td>
                      <td>{poolName(node.pool_id)}</td>
                      <td>
                        <span className={`state ${nodeTone(node.state)}`}>{node.state}</span>
                      </td>
                      <td title={node.last_heartbeat ? formatTime(node.last_heartbeat) : undefined}>{heartbeatAge(node.last_heartbeat)}</td>
                      <td>{formatNodeResources(node.capacity)}</td>
                      <td>{formatNodeResources(node.allocation)}</td>
                      <td>{node.replicas.length}</td>
                      {mayWrite ? (
                        <td>
                          <ConfirmButton
                            label="Delete"
                            accessibleLabel={`Delete node ${node.id}`}
                            question={`Forget the node ${node.id} and revoke its token? Its heartbeats are refused from now on.`}
                            onConfirm={async () => {
                              await api.deleteNode(node.id);
                              await refresh();
                            }}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No nodes{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={registering} title={registered ? "The node's token" : "Register a compute node"} onClose={close}>
        {registered ? (
          <NodeToken registered={registered} onDone={close} />
        ) : (
          <NodeForm
            pools={poolList}
            poolId={poolId}
            onSaved={(node) => {
              setRegistered(node);
              void refresh();
            }}
          />
        )}
      </Dialog>
    </section>
  );
}
