import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { describeError } from "../api/errors";
import type { EndpointInput, ModelRecord, RoutingStrategy } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatTime } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { checkBaseUrl, checkName } from "../lib/validation";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

const STRATEGIES: RoutingStrategy[] = ["weighted_round_robin", "least_outstanding", "prefix_affinity"];

interface EndpointDraft {
  base_url: string;
  upstream_model: string;
  api_key: string;
  weight: string;
  has_api_key: boolean;
}

const blankEndpoint = (): EndpointDraft => ({ base_url: "", upstream_model: "", api_key: "", weight: "1", has_api_key: false });

/** Drafts -> the API's endpoint list, or the first problem found. A blank API key is
 * left out, which keeps the stored one (credentials are write-only). */
export function endpointsFromDrafts(drafts: EndpointDraft[]): { endpoints: EndpointInput[]; error?: string } {
  if (drafts.length === 0) return { endpoints: [], error: "Add at least one endpoint." };
  const endpoints: EndpointInput[] = [];
  for (const [index, draft] of drafts.entries()) {
    const urlError = checkBaseUrl(draft.base_url);
    if (urlError) return { endpoints: [], error: `Endpoint ${index + 1}: ${urlError}` };
    const weight = Number(draft.weight || "1");
    if (!Number.isInteger(weight) || weight < 1) return { endpoints: [], error: `Endpoint ${index + 1}: the weight is a whole number of 1 or more.` };
    endpoints.push({
      base_url: draft.base_url.trim(),
      weight,
      ...(draft.upstream_model.trim() ? { upstream_model: draft.upstream_model.trim() } : {}),
      ...(draft.api_key ? { api_key: draft.api_key } : {}),
    });
  }
  return { endpoints };
}

function EndpointsEditor({ drafts, onChange }: { drafts: EndpointDraft[]; onChange: (drafts: EndpointDraft[]) => void }) {
  const update = (index: number, patch: Partial<EndpointDraft>) =>
    onChange(drafts.map((draft, i) => (i === index ? { ...draft, ...patch } : draft)));
  return (
    <fieldset>
      <legend>Endpoints</legend>
      {drafts.map((draft, index) => (
        <div className="endpoint" key={index}>
          <Field label={`Base URL ${index + 1}`} placeholder="https://api.example.com/v1" value={draft.base_url} onChange={(e) => update(index, { base_url: e.target.value })} />
          <Field label="Upstream model" hint="Empty = the model's name." value={draft.upstream_model} onChange={(e) => update(index, { upstream_model: e.target.value })} />
          <Field
            label="API key"
            type="password"
            autoComplete="off"
            hint={draft.has_api_key ? "Stored; leave empty to keep it." : "Write-only: never shown again."}
            value={draft.api_key}
            onChange={(e) => update(index, { api_key: e.target.value })}
          />
          <Field label="Weight" inputMode="numeric" value={draft.weight} onChange={(e) => update(index, { weight: e.target.value })} />
          {drafts.length > 1 ? (
            <button type="button" className="small" onClick={() => onChange(drafts.filter((_, i) => i !== index))}>
              Remove endpoint {index + 1}
            </button>
          ) : null}
        </div>
      ))}
      <button type="button" className="small" onClick={() => onChange([...drafts, blankEndpoint()])}>
        Add endpoint
      </button>
    </fieldset>
  );
}

function ModelForm({ model, onSaved }: { model?: ModelRecord; onSaved: (model: ModelRecord) => void }) {
  const api = useApi();
  const [name, setName] = useState(model?.name ?? "");
  const [strategy, setStrategy] = useState<RoutingStrategy>(model?.routing_strategy ?? "weighted_round_robin");
  const [drafts, setDrafts] = useState<EndpointDraft[]>(
    model?.endpoints.map((e) => ({ base_url: e.base_url, upstream_model: e.upstream_model, api_key: "", weight: String(e.weight), has_api_key: e.has_api_key })) ?? [blankEndpoint()],
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = endpointsFromDrafts(drafts);
    const problem = (model ? undefined : checkName(name)) ?? parsed.error;
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      const saved = model
        ? await api.updateModel(model.id, { routing_strategy: strategy, endpoints: parsed.endpoints })
        : await api.createModel({ name: name.trim(), routing_strategy: strategy, endpoints: parsed.endpoints });
      onSaved(saved);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      {model ? null : <Field label="Model name" hint="The name clients send as `model`." value={name} onChange={(e) => setName(e.target.value)} />}
      <Select label="Routing strategy" value={strategy} options={STRATEGIES} onChange={(value) => setStrategy(value as RoutingStrategy)} />
      <EndpointsEditor drafts={drafts} onChange={setDrafts} />
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {model ? "Save" : "Create model"}
        </button>
      </div>
    </form>
  );
}

export function ModelsPage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const models = useQuery({ queryKey: ["models"], queryFn: api.models });
  return (
    <section>
      <PageHeader title="Models and upstream providers">
        {can("models:write") ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Add model
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">This organisation's models. Models from inferia.toml serve every organisation and are not listed here.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="name or URL" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={models}>
        {({ data }) => {
          const shown = paginate(
            data.filter((m) => matches(filter, m.name, ...m.endpoints.map((e) => e.base_url))),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Routing</th>
                    <th scope="col">Endpoints</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((model) => (
                    <tr key={model.id}>
                      <td>
                        <Link to={`/models/${encodeURIComponent(model.id)}`}>{model.name}</Link>
                      </td>
                      <td>{model.routing_strategy}</td>
                      <td>{model.endpoints.map((e) => e.base_url).join(", ")}</td>
                      <td>{formatTime(model.updated_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No models{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={creating} title="Add a model" onClose={() => setCreating(false)}>
        <ModelForm
          onSaved={() => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: ["models"] });
          }}
        />
      </Dialog>
    </section>
  );
}

export function ModelPage() {
  const { modelId = "" } = useParams();
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const model = useQuery({ queryKey: ["models", modelId], queryFn: () => api.model(modelId) });
  const remove = useMutation({
    mutationFn: () => api.deleteModel(modelId),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["models"] });
      navigate("/models");
    },
  });
  return (
    <section>
      <p>
        <Link to="/models">← Models</Link>
      </p>
      <QueryView query={model}>
        {(record) => (
          <>
            <PageHeader title={record.name}>
              {can("models:write") ? (
                <>
                  <button type="button" onClick={() => setEditing(true)}>
                    Edit
                  </button>
                  <ConfirmButton
                    label="Delete"
                    question={`Delete the model "${record.name}"? Requests for it will fail with 404.`}
                    onConfirm={() => remove.mutateAsync()}
                  />
                </>
              ) : null}
            </PageHeader>
            <dl className="facts">
              <dt>Routing strategy</dt>
              <dd>{record.routing_strategy}</dd>
              <dt>Created</dt>
              <dd>{formatTime(record.created_at)}</dd>
            </dl>
            <table>
              <thead>
                <tr>
                  <th scope="col">Base URL</th>
                  <th scope="col">Upstream model</th>
                  <th scope="col">Weight</th>
                  <th scope="col">API key</th>
                </tr>
              </thead>
              <tbody>
                {record.endpoints.map((endpoint) => (
                  <tr key={endpoint.base_url}>
                    <td>{endpoint.base_url}</td>
                    <td>{endpoint.upstream_model}</td>
                    <td>{endpoint.weight}</td>
                    <td>{endpoint.has_api_key ? "stored" : "none"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Dialog open={editing} title={`Edit ${record.name}`} onClose={() => setEditing(false)}>
              <ModelForm
                model={record}
                onSaved={() => {
                  setEditing(false);
                  void queryClient.invalidateQueries({ queryKey: ["models"] });
                }}
              />
            </Dialog>
          </>
        )}
      </QueryView>
    </section>
  );
}
