import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { describeError } from "../api/errors";
import { TEMPLATE_ROLES, VARIABLE_TYPES, type RenderResult, type TemplateRecord, type TemplateVersion } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatTime } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import {
  blankMessage,
  blankTemplate,
  blankVariable,
  bodyFromDraft,
  draftFromBody,
  exampleVariables,
  parseRenderVariables,
  templateFromDraft,
  type MessageDraft,
  type TemplateDraft,
  type VariableDraft,
} from "../lib/templates";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select, TextArea } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";
import { useDraftForm } from "../ui/useDraftForm";

/** The messages and variables of a version: the create and add-version forms share it. */
function VersionFields({
  draft,
  set,
  errorOf,
}: {
  draft: TemplateDraft;
  set: (patch: Partial<TemplateDraft>) => void;
  errorOf: (field: "name" | "messages" | "variables") => string | undefined;
}) {
  const setMessage = (index: number, patch: Partial<MessageDraft>) =>
    set({ messages: draft.messages.map((m, i) => (i === index ? { ...m, ...patch } : m)) });
  const setVariable = (index: number, patch: Partial<VariableDraft>) =>
    set({ variables: draft.variables.map((v, i) => (i === index ? { ...v, ...patch } : v)) });
  const messagesError = errorOf("messages");
  const variablesError = errorOf("variables");
  return (
    <>
      <fieldset>
        <legend>Messages</legend>
        <p className="muted">Jinja2 templates, such as {"{{ name }}"}; rendered in a sandbox.</p>
        {draft.messages.map((message, index) => (
          <div key={index} className="card">
            <div className="row">
              <Select
                label={`Role of message ${index + 1}`}
                value={message.role}
                options={TEMPLATE_ROLES}
                onChange={(role) => setMessage(index, { role: role as MessageDraft["role"] })}
              />
              {draft.messages.length > 1 ? (
                <button
                  type="button"
                  className="small"
                  aria-label={`Remove message ${index + 1}`}
                  onClick={() => set({ messages: draft.messages.filter((_, i) => i !== index) })}
                >
                  Remove
                </button>
              ) : null}
            </div>
            <TextArea
              label={`Content of message ${index + 1}`}
              rows={4}
              value={message.content}
              onChange={(e) => setMessage(index, { content: e.target.value })}
            />
          </div>
        ))}
        {messagesError ? (
          <p className="field-error" role="alert">
            {messagesError}
          </p>
        ) : null}
        <button type="button" className="small" onClick={() => set({ messages: [...draft.messages, blankMessage()] })}>
          Add message
        </button>
      </fieldset>
      <fieldset>
        <legend>Variables</legend>
        {draft.variables.length === 0 ? <p className="muted">None declared: a template may still use undeclared ones.</p> : null}
        {draft.variables.map((variable, index) => (
          <div key={index} className="row">
            <Field label={`Variable ${index + 1} name`} value={variable.name} onChange={(e) => setVariable(index, { name: e.target.value })} />
            <Select
              label={`Variable ${index + 1} type`}
              value={variable.type}
              options={VARIABLE_TYPES}
              onChange={(type) => setVariable(index, { type: type as VariableDraft["type"] })}
            />
            <Field
              label={`Variable ${index + 1} default`}
              placeholder={variable.type === "string" ? "text" : "JSON"}
              value={variable.default}
              onChange={(e) => setVariable(index, { default: e.target.value })}
            />
            <label className="checkbox">
              <input type="checkbox" checked={variable.required} onChange={(e) => setVariable(index, { required: e.target.checked })} /> Required
            </label>
            <button
              type="button"
              className="small"
              aria-label={`Remove variable ${index + 1}`}
              onClick={() => set({ variables: draft.variables.filter((_, i) => i !== index) })}
            >
              Remove
            </button>
          </div>
        ))}
        {variablesError ? (
          <p className="field-error" role="alert">
            {variablesError}
          </p>
        ) : null}
        <button type="button" className="small" onClick={() => set({ variables: [...draft.variables, blankVariable()] })}>
          Add variable
        </button>
      </fieldset>
    </>
  );
}

function CreateTemplateForm({ onSaved }: { onSaved: (template: TemplateRecord) => void }) {
  const api = useApi();
  const form = useDraftForm(blankTemplate, templateFromDraft, api.createTemplate, onSaved);
  return (
    <form onSubmit={form.onSubmit} noValidate>
      <Field label="Template name" value={form.draft.name} error={form.errorOf("name")} onChange={(e) => form.set({ name: e.target.value })} />
      <VersionFields draft={form.draft} set={form.set} errorOf={form.errorOf} />
      {form.formError ? (
        <p className="field-error" role="alert">
          {form.formError}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={form.busy}>
          Create template
        </button>
      </div>
    </form>
  );
}

function AddVersionForm({ template, from, onSaved }: { template: TemplateRecord; from: TemplateVersion | undefined; onSaved: () => void }) {
  const api = useApi();
  const form = useDraftForm(
    () => (from ? draftFromBody(template.name, from) : { ...blankTemplate(), name: template.name }),
    bodyFromDraft,
    (body) => api.addTemplateVersion(template.id, body),
    onSaved,
  );
  return (
    <form onSubmit={form.onSubmit} noValidate>
      <p className="muted">The new version is stored inactive: activate it when it is ready.</p>
      <VersionFields draft={form.draft} set={form.set} errorOf={form.errorOf} />
      {form.formError ? (
        <p className="field-error" role="alert">
          {form.formError}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={form.busy}>
          Add version
        </button>
      </div>
    </form>
  );
}

function RenderPreview({ template, versions }: { template: TemplateRecord; versions: TemplateVersion[] }) {
  const api = useApi();
  const active = versions.find((v) => v.version === template.active_version);
  const [version, setVersion] = useState(String(template.active_version));
  const [variables, setVariables] = useState(() => exampleVariables(active?.variables ?? []));
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<RenderResult | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseRenderVariables(variables);
    if (!parsed.value) {
      setError(parsed.error ?? "Check the variables.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setResult(await api.renderTemplate(template.id, parsed.value, Number(version)));
    } catch (failure) {
      setResult(null);
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="card">
      <h2>Preview</h2>
      <Select
        label="Version to render"
        value={version}
        options={versions.map((v) => ({ value: String(v.version), label: `v${v.version}${v.version === template.active_version ? " (active)" : ""}` }))}
        onChange={setVersion}
      />
      <TextArea
        label="Variables (JSON)"
        rows={4}
        placeholder='{"name": "Ada"}'
        value={variables}
        onChange={(e) => setVariables(e.target.value)}
      />
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Render
        </button>
      </div>
      {result ? (
        <ol aria-label="Rendered messages" className="chat">
          {result.messages.map((message, index) => (
            <li key={index} className={`message ${message.role}`}>
              <span className="role">{message.role}</span>
              <div className="content">{message.content}</div>
            </li>
          ))}
        </ol>
      ) : null}
    </form>
  );
}

export function TemplatesPage() {
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const templates = useQuery({ queryKey: ["templates"], queryFn: api.templates });
  const mayWrite = can("templates:write");
  return (
    <section>
      <PageHeader title="Prompt templates">
        {mayWrite ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create template
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">Versioned prompts: a request names one with its variables, and the gateway renders the active version.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="name" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={templates}>
        {({ data }) => {
          const shown = paginate(
            data.filter((t) => matches(filter, t.name)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Active version</th>
                    <th scope="col">Newest version</th>
                    <th scope="col">Updated</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((template) => (
                    <tr key={template.id}>
                      <td>
                        <Link to={`/templates/${encodeURIComponent(template.id)}`}>{template.name}</Link>
                      </td>
                      <td>v{template.active_version}</td>
                      <td>v{template.version}</td>
                      <td>{formatTime(template.updated_at)}</td>
                      {mayWrite ? (
                        <td>
                          <ConfirmButton
                            label="Delete"
                            accessibleLabel={`Delete template ${template.name}`}
                            question={`Delete the template "${template.name}" and every version? Requests that name it will fail.`}
                            onConfirm={async () => {
                              await api.deleteTemplate(template.id);
                              await queryClient.invalidateQueries({ queryKey: ["templates"] });
                            }}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No templates{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={creating} title="Create a prompt template" onClose={() => setCreating(false)}>
        <CreateTemplateForm
          onSaved={(template) => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: ["templates"] });
            navigate(`/templates/${encodeURIComponent(template.id)}`);
          }}
        />
      </Dialog>
    </section>
  );
}

export function TemplatePage() {
  const { templateId = "" } = useParams();
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const template = useQuery({ queryKey: ["templates", templateId], queryFn: () => api.template(templateId) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["templates"] });
  const activate = useMutation({
    mutationFn: (version: number) => api.activateTemplate(templateId, version),
    onSuccess: refresh,
  });
  const mayWrite = can("templates:write");
  return (
    <section>
      <p>
        <Link to="/templates">← Prompt templates</Link>
      </p>
      <QueryView query={template}>
        {(record) => {
          const versions = record.versions ?? [];
          const newest = versions[versions.length - 1];
          return (
            <>
              <PageHeader title={record.name}>
                {mayWrite ? (
                  <>
                    <button type="button" onClick={() => setAdding(true)}>
                      Add version
                    </button>
                    <ConfirmButton
                      label="Delete"
                      question={`Delete the template "${record.name}" and every version? Requests that name it will fail.`}
                      onConfirm={async () => {
                        await api.deleteTemplate(record.id);
                        await refresh();
                        navigate("/templates");
                      }}
                    />
                  </>
                ) : null}
              </PageHeader>
              <dl className="facts">
                <dt>Active version</dt>
                <dd data-testid="active-version">v{record.active_version}</dd>
                <dt>Created</dt>
                <dd>{formatTime(record.created_at)}</dd>
                <dt>Updated</dt>
                <dd>{formatTime(record.updated_at)}</dd>
              </dl>
              {activate.isError ? (
                <p className="field-error" role="alert">
                  {describeError(activate.error)}
                </p>
              ) : null}
              <table>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Messages</th>
                    <th scope="col">Variables</th>
                    <th scope="col">Created</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {[...versions].reverse().map((version) => (
                    <tr key={version.version}>
                      <td>v{version.version}</td>
                      <td>
                        {version.messages.map((message, index) => (
                          <div key={index}>
                            <strong>{message.role}:</strong> <span className="muted">{message.content.slice(0, 120)}</span>
                          </div>
                        ))}
                      </td>
                      <td>
                        {version.variables.length
                          ? version.variables.map((v) => `${v.name}: ${v.type}${v.required ? " (required)" : ""}`).join(", ")
                          : "none"}
                      </td>
                      <td>{formatTime(version.created_at)}</td>
                      <td>
                        {version.version === record.active_version ? (
                          <span className="state ok">active</span>
                        ) : mayWrite ? (
                          <button
                            type="button"
                            className="small"
                            disabled={activate.isPending}
                            aria-label={`Activate version ${version.version}`}
                            onClick={() => activate.mutate(version.version)}
                          >
                            Activate
                          </button>
                        ) : (
                          "inactive"
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {versions.length ? <RenderPreview key={`${record.id}-${record.active_version}`} template={record} versions={versions} /> : null}
              <Dialog open={adding} title={`Add a version to ${record.name}`} onClose={() => setAdding(false)}>
                <AddVersionForm
                  template={record}
                  from={newest}
                  onSaved={() => {
                    setAdding(false);
                    void refresh();
                  }}
                />
              </Dialog>
            </>
          );
        }}
      </QueryView>
    </section>
  );
}
