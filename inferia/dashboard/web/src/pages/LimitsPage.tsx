import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import { LIMIT_FIELDS, type LimitField, type LimitPolicy, type PolicyScope } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { shortId } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { hasErrors, parseLimits, type Errors } from "../lib/validation";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

const LABELS: Record<LimitField, string> = {
  rpm: "Requests per minute",
  tpm: "Tokens per minute",
  max_parallel: "Parallel requests",
  daily_tokens: "Tokens per day",
  monthly_tokens: "Tokens per 30 days",
  daily_budget: "Budget per day (USD)",
  monthly_budget: "Budget per 30 days (USD)",
};

export function limitsSummary(policy: Pick<LimitPolicy, "limits">): string {
  const parts = LIMIT_FIELDS.filter((f) => policy.limits[f] !== null && policy.limits[f] !== undefined).map(
    (f) => `${f} ${policy.limits[f] === 0 ? "unlimited" : String(policy.limits[f])}`,
  );
  return parts.length ? parts.join(", ") : "inherits everything";
}

function useSubjects() {
  const api = useApi();
  const can = useCan();
  const keys = useQuery({ queryKey: ["api-keys", false], queryFn: () => api.apiKeys(false), enabled: can("api_keys:read") });
  const members = useQuery({ queryKey: ["members"], queryFn: api.members, enabled: can("members:read") });
  const name = (scope: PolicyScope, subject: string): string => {
    if (scope === "organization") return "the organisation";
    if (scope === "api_key") return `key ${keys.data?.data.find((k) => k.id === subject)?.name ?? shortId(subject)}`;
    return `user ${members.data?.data.find((m) => m.user_id === subject)?.email ?? shortId(subject)}`;
  };
  return { keys: keys.data?.data ?? [], members: members.data?.data ?? [], name };
}

function PolicyForm({ policy, onSaved }: { policy?: LimitPolicy; onSaved: () => void }) {
  const api = useApi();
  const subjects = useSubjects();
  const [scope, setScope] = useState<PolicyScope>(policy?.scope ?? "api_key");
  const [subject, setSubject] = useState(policy?.subject ?? "");
  const [model, setModel] = useState(policy?.model ?? "*");
  const [values, setValues] = useState<Partial<Record<LimitField, string>>>(() =>
    Object.fromEntries(LIMIT_FIELDS.map((f) => [f, policy?.limits[f] === null || policy?.limits[f] === undefined ? "" : String(policy.limits[f])])),
  );
  const [errors, setErrors] = useState<Errors<LimitField>>({});
  const [failure, setFailure] = useState<string | null>(null);

  const options =
    scope === "api_key"
      ? subjects.keys.map((k) => ({ value: k.id, label: `${k.name} (${k.prefix})` }))
      : subjects.members.map((m) => ({ value: m.user_id, label: m.email }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseLimits(values);
    setErrors(parsed.errors);
    if (hasErrors(parsed.errors)) return;
    if (!policy && scope !== "organization" && !subject) return setFailure("Choose who the limits apply to.");
    setFailure(null);
    try {
      if (policy) {
        // Blank fields are sent as null: they stop overriding and inherit again.
        const limits = Object.fromEntries(LIMIT_FIELDS.map((f) => [f, parsed.limits[f] ?? null]));
        await api.updatePolicy(policy.id, { limits });
      } else {
        await api.createPolicy({ scope, ...(scope === "organization" ? {} : { subject }), model: model.trim() || "*", limits: parsed.limits });
      }
      onSaved();
    } catch (error) {
      setFailure(describeError(error));
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      {policy ? null : (
        <>
          <Select
            label="Applies to"
            value={scope}
            options={[
              { value: "api_key", label: "an API key" },
              { value: "user", label: "a user's keys" },
              { value: "organization", label: "the whole organisation" },
            ]}
            onChange={(value) => {
              setScope(value as PolicyScope);
              setSubject("");
            }}
          />
          {scope === "organization" ? null : (
            <Select label={scope === "api_key" ? "Key" : "User"} value={subject} options={[{ value: "", label: "Choose…" }, ...options]} onChange={setSubject} />
          )}
          <Field label="Model" hint="A model name, or * for every model." value={model} onChange={(e) => setModel(e.target.value)} />
        </>
      )}
      <p className="muted">Blank: inherit. 0: no limit here.</p>
      <div className="grid-2">
        {LIMIT_FIELDS.map((field) => (
          <Field
            key={field}
            label={LABELS[field]}
            inputMode="decimal"
            value={values[field] ?? ""}
            error={errors[field]}
            onChange={(e) => setValues({ ...values, [field]: e.target.value })}
          />
        ))}
      </div>
      {failure ? <p className="field-error" role="alert">{failure}</p> : null}
      <div className="actions">
        <button type="submit" className="primary">
          {policy ? "Save limits" : "Create policy"}
        </button>
      </div>
    </form>
  );
}

export function LimitsPage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const subjects = useSubjects();
  const [scope, setScope] = useState("all");
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<LimitPolicy | "new" | null>(null);
  const policies = useQuery({ queryKey: ["policies"], queryFn: api.policies });
  const remove = useMutation({
    mutationFn: (id: string) => api.deletePolicy(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["policies"] }),
  });
  const mayWrite = can("policies:write");
  const saved = () => {
    setEditing(null);
    void queryClient.invalidateQueries({ queryKey: ["policies"] });
  };

  return (
    <section>
      <PageHeader title="Rate limits, quotas and budgets">
        {mayWrite ? (
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            Add policy
          </button>
        ) : null}
      </PageHeader>
      <div className="toolbar">
        <Select
          label="Scope"
          value={scope}
          options={["all", "organization", "user", "api_key"]}
          onChange={(value) => (setScope(value), setPage(1))}
        />
        <Field label="Filter" placeholder="model or subject" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={policies}>
        {({ data }) => {
          const shown = paginate(
            data.filter((p) => (scope === "all" || p.scope === scope) && matches(filter, p.model, subjects.name(p.scope, p.subject))),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Applies to</th>
                    <th scope="col">Model</th>
                    <th scope="col">Limits</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((policy) => (
                    <tr key={policy.id}>
                      <td>{subjects.name(policy.scope, policy.subject)}</td>
                      <td>{policy.model}</td>
                      <td>{limitsSummary(policy)}</td>
                      {mayWrite ? (
                        <td className="row-actions">
                          <button type="button" className="small" onClick={() => setEditing(policy)}>
                            Edit
                          </button>
                          <ConfirmButton
                            label="Delete"
                            question={`Delete the limits of ${subjects.name(policy.scope, policy.subject)} for ${policy.model}?`}
                            onConfirm={() => remove.mutateAsync(policy.id)}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No policies{filter || scope !== "all" ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={editing !== null} title={editing === "new" ? "Add limits" : "Edit limits"} onClose={() => setEditing(null)}>
        {editing === null ? null : <PolicyForm policy={editing === "new" ? undefined : editing} onSaved={saved} />}
      </Dialog>
    </section>
  );
}
