import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { describeError } from "../api/errors";
import type { DeploymentRecord, RoutingStrategy } from "../api/types";
import { useApi, useCan, useSession } from "../auth/session";
import { checkReplicas, checkSlug, formatResources, isFinal, isSettling, stateTone, timeline } from "../lib/deployments";
import { formatTime, shortId } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { ErrorPanel } from "../ui/ErrorPanel";
import { QueryView } from "../ui/QueryView";
import { useFollowedLog } from "../ui/useFollowedLog";

const STRATEGIES: RoutingStrategy[] = ["weighted_round_robin", "least_outstanding", "prefix_affinity"];
/** While a deployment is on its way somewhere, its page polls this often. */
const POLL_MS = 3000;

function State({ state }: { state: string }) {
  return <span className={`state ${stateTone(state)}`}>{state}</span>;
}

function DeployForm({ onSaved }: { onSaved: (deployment: DeploymentRecord) => void }) {
  const api = useApi();
  const { me } = useSession();
  const organizationId = me?.organization_id ?? "";
  const registry = useQuery({ queryKey: ["registry"], queryFn: api.registry });
  const pools = useQuery({ queryKey: ["pools", organizationId], queryFn: () => api.pools(organizationId), enabled: Boolean(organizationId) });
  const [model, setModel] = useState("");
  const [poolId, setPoolId] = useState("");
  const [replicas, setReplicas] = useState("1");
  const [servedName, setServedName] = useState("");
  const [strategy, setStrategy] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const models = registry.data?.data ?? [];
  const poolList = pools.data?.data ?? [];
  // The first choice is selected until the user picks another.
  const chosenModel = model || (models[0] ? `${models[0].name}\u0000${models[0].version}` : "");
  const chosenPool = poolId || (poolList[0]?.id ?? "");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const [name = "", version = ""] = chosenModel.split("\u0000");
    if (!name) return setError("Register a model first (Model registry).");
    if (!chosenPool) return setError("Create a compute pool first (Compute pools).");
    const count = checkReplicas(replicas);
    if (count.replicas === undefined) return setError(`Replicas: ${count.error ?? ""}`);
    const served = servedName.trim();
    const servedError = served ? checkSlug(served, "served name") : undefined;
    if (servedError) return setError(servedError);
    setBusy(true);
    setError(null);
    try {
      onSaved(
        await api.deploy({
          model: name,
          version,
          pool_id: chosenPool,
          replicas: count.replicas,
          ...(served ? { served_name: served } : {}),
          ...(strategy ? { routing_strategy: strategy as RoutingStrategy } : {}),
        }),
      );
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  if (registry.isError || pools.isError) {
    return <p className="field-error" role="alert">{describeError(registry.error ?? pools.error)}</p>;
  }
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <Select
        label="Model version"
        value={chosenModel}
        options={models.map((m) => ({ value: `${m.name}\u0000${m.version}`, label: `${m.name} ${m.version} (${m.engine})` }))}
        onChange={setModel}
      />
      <Select label="Pool" value={chosenPool} options={poolList.map((p) => ({ value: p.id, label: `${p.name} (${p.provider})` }))} onChange={setPoolId} />
      <Field label="Replicas" inputMode="numeric" value={replicas} onChange={(e) => setReplicas(e.target.value)} />
      <Field label="Served name" hint="The name clients send as `model`; empty = the registry name." value={servedName} onChange={(e) => setServedName(e.target.value)} />
      <Select
        label="Routing strategy"
        value={strategy}
        options={[{ value: "", label: "default" }, ...STRATEGIES]}
        onChange={setStrategy}
      />
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || registry.isPending || pools.isPending}>
          Deploy
        </button>
      </div>
    </form>
  );
}

function ScaleForm({ deployment, onSaved }: { deployment: DeploymentRecord; onSaved: () => void }) {
  const api = useApi();
  const [replicas, setReplicas] = useState(String(deployment.replicas.desired));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const count = checkReplicas(replicas);
    if (count.replicas === undefined) return setError(count.error ?? "Check the number.");
    setBusy(true);
    setError(null);
    try {
      await api.scaleDeployment(deployment.id, count.replicas);
      onSaved();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <Field label="Replicas" inputMode="numeric" value={replicas} error={error ?? undefined} onChange={(e) => setReplicas(e.target.value)} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Scale
        </button>
      </div>
    </form>
  );
}

export function DeploymentsPage() {
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [showEnded, setShowEnded] = useState(false);
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const deployments = useQuery({
    queryKey: ["deployments"],
    queryFn: api.deployments,
    refetchInterval: (query) => (query.state.data?.data.some((d) => isSettling(d.state)) ? POLL_MS : false),
  });
  return (
    <section>
      <PageHeader title="Deployments">
        {can("deployments:write") ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Deploy a model
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">Registered models running on a compute pool; the control plane brings each to its desired replicas.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="model, served name or state" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
        <label className="checkbox">
          <input type="checkbox" checked={showEnded} onChange={(e) => (setShowEnded(e.target.checked), setPage(1))} /> Show terminated
        </label>
      </div>
      <QueryView query={deployments}>
        {({ data }) => {
          const shown = paginate(
            data.filter((d) => (showEnded || !isFinal(d.state)) && matches(filter, d.model, d.served_name, d.state, d.id)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Deployment</th>
                    <th scope="col">Model</th>
                    <th scope="col">State</th>
                    <th scope="col">Replicas (ready / desired)</th>
                    <th scope="col">Endpoints</th>
                    <th scope="col">Last error</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((deployment) => (
                    <tr key={deployment.id}>
                      <td className="keep">
                        <Link to={`/deployments/${encodeURIComponent(deployment.id)}`}>{deployment.served_name}</Link>
                        <div className="muted">
                          <code>{shortId(deployment.id)}</code>
                        </div>
                      </td>
                      <td className="keep">
                        {deployment.model} {deployment.version}
                      </td>
                      <td>
                        <State state={deployment.state} />
                      </td>
                      <td>
                        {deployment.replicas.ready} / {deployment.replicas.desired}
                      </td>
                      <td>{deployment.endpoints.length ? deployment.endpoints.join(", ") : "-"}</td>
                      <td className={deployment.error ? "bad" : undefined}>{deployment.error ?? "-"}</td>
                      <td>{formatTime(deployment.updated_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No deployments{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={creating} title="Deploy a model" onClose={() => setCreating(false)}>
        <DeployForm
          onSaved={(deployment) => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: ["deployments"] });
            navigate(`/deployments/${encodeURIComponent(deployment.id)}`);
          }}
        />
      </Dialog>
    </section>
  );
}

function LogText({ text }: { text: string }) {
  return text ? (
    <pre className="logs" aria-label="Model server output" tabIndex={0}>
      {text}
    </pre>
  ) : (
    <p className="muted">No output yet.</p>
  );
}

/** While the deployment is active: the stream that follows the servers' output. */
function FollowedLogs({ deploymentId }: { deploymentId: string }) {
  const api = useApi();
  const [attempt, setAttempt] = useState(0);
  const log = useFollowedLog(api, deploymentId, attempt);
  return (
    <>
      <div className="section-header">
        <h2>Logs</h2>
        <div className="actions">
          <span className="muted">
            {log.status === "following" ? "Following" : log.status === "connecting" ? "Connecting…" : "Stream ended"}
          </span>
          {log.status === "ended" ? (
            <button type="button" className="small" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </button>
          ) : null}
        </div>
      </div>
      {log.error ? <ErrorPanel error={log.error} onRetry={() => setAttempt((n) => n + 1)} /> : <LogText text={log.text} />}
    </>
  );
}

/** Once it is settled (failed, terminated): the last lines, reloaded on demand. */
function LogTail({ deploymentId }: { deploymentId: string }) {
  const api = useApi();
  const logs = useQuery({ queryKey: ["deployments", deploymentId, "logs"], queryFn: () => api.deploymentLogs(deploymentId) });
  return (
    <>
      <div className="section-header">
        <h2>Logs</h2>
        <button type="button" className="small" onClick={() => void logs.refetch()}>
          Reload
        </button>
      </div>
      <QueryView query={logs}>{(text) => <LogText text={text === null ? "" : String(text)} />}</QueryView>
    </>
  );
}

export function DeploymentPage() {
  const { deploymentId = "" } = useParams();
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [scaling, setScaling] = useState(false);
  const deployment = useQuery({
    queryKey: ["deployments", deploymentId],
    queryFn: () => api.deployment(deploymentId),
    refetchInterval: (query) => (query.state.data && isSettling(query.state.data.state) ? POLL_MS : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["deployments"] });
  const terminate = useMutation({ mutationFn: () => api.terminateDeployment(deploymentId), onSuccess: refresh });
  const writable = can("deployments:write");
  return (
    <section>
      <p>
        <Link to="/deployments">← Deployments</Link>
      </p>
      <QueryView query={deployment}>
        {(record) => (
          <>
            <PageHeader title={record.served_name}>
              {writable && !isFinal(record.state) && record.state !== "TERMINATING" ? (
                <>
                  <button type="button" onClick={() => setScaling(true)}>
                    Scale
                  </button>
                  <ConfirmButton
                    label="Terminate"
                    question={`Terminate "${record.served_name}"? Its model servers stop and requests for it fail.`}
                    onConfirm={() => terminate.mutateAsync()}
                  />
                </>
              ) : null}
            </PageHeader>
            <dl className="facts">
              <dt>State</dt>
              <dd>
                <State state={record.state} />
              </dd>
              <dt>Replicas</dt>
              <dd>
                {record.replicas.ready} ready of {record.replicas.desired} desired
              </dd>
              <dt>Model</dt>
              <dd>
                {record.model} {record.version}
              </dd>
              <dt>Pool</dt>
              <dd>
                <code>{record.pool_id}</code>
              </dd>
              <dt>Endpoints</dt>
              <dd>{record.endpoints.length ? record.endpoints.join(", ") : "none ready"}</dd>
              <dt>Routing strategy</dt>
              <dd>{record.routing_strategy ?? "default"}</dd>
              <dt>Resources</dt>
              <dd>{formatResources(record.resources)}</dd>
              <dt>Engine arguments</dt>
              <dd>{record.engine_args.length ? <code>{record.engine_args.join(" ")}</code> : "-"}</dd>
              <dt>Last error</dt>
              <dd className={record.error ? "bad" : undefined}>{record.error ?? "-"}</dd>
              <dt>Created</dt>
              <dd>{formatTime(record.created_at)}</dd>
              <dt>ID</dt>
              <dd>
                <code>{record.id}</code>
              </dd>
            </dl>
            <h2>History</h2>
            <ol className="timeline" aria-label="State history, newest first">
              {timeline(record.events).map((event, index) => (
                <li key={`${event.at}-${index}`}>
                  <div>
                    {event.from ? (
                      <>
                        <State state={event.from} /> →{" "}
                      </>
                    ) : null}
                    <State state={event.to} /> <span className="muted">{formatTime(event.at)}</span>
                  </div>
                  <div>
                    {event.reason} <span className="muted">({event.actor})</span>
                  </div>
                </li>
              ))}
            </ol>
            {record.events.length === 0 ? <p className="muted">No events yet.</p> : null}
            {isFinal(record.state) || record.state === "FAILED" ? (
              <LogTail deploymentId={record.id} />
            ) : (
              <FollowedLogs deploymentId={record.id} />
            )}
            <Dialog open={scaling} title={`Scale ${record.served_name}`} onClose={() => setScaling(false)}>
              <ScaleForm
                deployment={record}
                onSaved={() => {
                  setScaling(false);
                  void refresh();
                }}
              />
            </Dialog>
          </>
        )}
      </QueryView>
    </section>
  );
}
