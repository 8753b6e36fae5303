import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ENGINES, type Engine, type RegisteredModel } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { blankRegistryModel, formatResources, registryModelFromDraft, type RegistryDraft } from "../lib/deployments";
import { formatTime } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select, TextArea } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";
import { useDraftForm } from "../ui/useDraftForm";

/** A new version of `base` (its settings copied) or a new model. */
function RegistryForm({ base, onSaved }: { base?: RegisteredModel; onSaved: (model: RegisteredModel) => void }) {
  const api = useApi();
  const initial = (): RegistryDraft =>
    base
      ? {
          name: base.name,
          version: "",
          artifact_uri: base.artifact_uri,
          engine: (ENGINES as readonly string[]).includes(base.engine) ? (base.engine as Engine) : "vllm",
          engine_args: base.engine_args.join("\n"),
          command: base.command.join("\n"),
          gpus: String(base.resources.gpus),
          gpu_memory_gb: String(base.resources.gpu_memory_gb),
          cpus: String(base.resources.cpus),
          memory_gb: String(base.resources.memory_gb),
        }
      : blankRegistryModel();
  const { draft, set, errorOf, formError, busy, onSubmit } = useDraftForm(initial, registryModelFromDraft, api.registerModel, onSaved);
  return (
    <form onSubmit={onSubmit} noValidate>
      <div className="row">
        <Field label="Model name" value={draft.name} readOnly={Boolean(base)} error={errorOf("name")} onChange={(e) => set({ name: e.target.value })} />
        <Field label="Version" placeholder="1" value={draft.version} error={errorOf("version")} onChange={(e) => set({ version: e.target.value })} />
      </div>
      <Field
        label="Artifact URI"
        placeholder="hf://Qwen/Qwen2.5-0.5B-Instruct"
        hint="hf://, file://, s3:// or ollama://"
        value={draft.artifact_uri}
        error={errorOf("artifact_uri")}
        onChange={(e) => set({ artifact_uri: e.target.value })}
      />
      <Select label="Engine" value={draft.engine} options={ENGINES} onChange={(value) => set({ engine: value as Engine })} />
      <TextArea label="Engine arguments" hint="One argument per line." value={draft.engine_args} onChange={(e) => set({ engine_args: e.target.value })} />
      {draft.engine === "openai-compatible" ? (
        <TextArea
          label="Server command"
          hint="One argument per line; placeholders {model_path} {host} {port} {api_key} {served_name} {python}."
          value={draft.command}
          error={errorOf("command")}
          onChange={(e) => set({ command: e.target.value })}
        />
      ) : null}
      <div className="row">
        <Field label="GPUs" inputMode="numeric" value={draft.gpus} error={errorOf("gpus")} onChange={(e) => set({ gpus: e.target.value })} />
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
          Register
        </button>
      </div>
    </form>
  );
}

export function RegistryPage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState<{ base?: RegisteredModel } | null>(null);
  const registry = useQuery({ queryKey: ["registry"], queryFn: api.registry });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["registry"] });
  const writable = can("deployments:write");
  return (
    <section>
      <PageHeader title="Model registry">
        {writable ? (
          <button type="button" className="primary" onClick={() => setCreating({})}>
            Register model
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">Model versions that can be deployed on a pool. A version is immutable once registered.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="name, version, URI or engine" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={registry}>
        {({ data }) => {
          const shown = paginate(
            data.filter((m) => matches(filter, m.name, m.version, m.artifact_uri, m.engine)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Version</th>
                    <th scope="col">Artifact</th>
                    <th scope="col">Engine</th>
                    <th scope="col">Resources</th>
                    <th scope="col">Registered</th>
                    {writable ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((model) => (
                    <tr key={model.id}>
                      <td className="keep">{model.name}</td>
                      <td className="keep">{model.version}</td>
                      <td>
                        <code>{model.artifact_uri}</code>
                      </td>
                      <td className="keep">{model.engine}</td>
                      <td>{formatResources(model.resources)}</td>
                      <td>{formatTime(model.created_at)}</td>
                      {writable ? (
                        <td>
                          <div className="row-actions">
                            <button type="button" className="small" aria-label={`New version of ${model.name}`} onClick={() => setCreating({ base: model })}>
                              New version
                            </button>
                            <ConfirmButton
                              label="Delete"
                              accessibleLabel={`Delete ${model.name} ${model.version}`}
                              question={`Delete ${model.name} version ${model.version}? A version a deployment uses cannot be deleted.`}
                              onConfirm={async () => {
                                await api.deleteRegisteredModel(model.name, model.version);
                                await refresh();
                              }}
                            />
                          </div>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No registered models{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog
        open={creating !== null}
        title={creating?.base ? `New version of ${creating.base.name}` : "Register a model"}
        onClose={() => setCreating(null)}
      >
        <RegistryForm
          {...(creating?.base ? { base: creating.base } : {})}
          onSaved={() => {
            setCreating(null);
            void refresh();
          }}
        />
      </Dialog>
    </section>
  );
}
