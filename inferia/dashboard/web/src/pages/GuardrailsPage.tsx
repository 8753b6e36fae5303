import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import type { GuardrailEntry, GuardrailPolicy } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatTime } from "../lib/format";
import { splitList } from "../lib/validation";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

type Direction = "input" | "output";
const ACTIONS = ["flag", "redact", "block"] as const;

export function entriesSummary(entries: readonly GuardrailEntry[]): string {
  return entries.length ? entries.map((e) => `${e.scanner}: ${e.action ?? "flag"}`).join(", ") : "none";
}

function EntriesEditor({
  direction,
  entries,
  scanners,
  onChange,
}: {
  direction: Direction;
  entries: GuardrailEntry[];
  scanners: string[];
  onChange: (entries: GuardrailEntry[]) => void;
}) {
  const update = (index: number, patch: Partial<GuardrailEntry>) => onChange(entries.map((e, i) => (i === index ? { ...e, ...patch } : e)));
  return (
    <fieldset>
      <legend>{direction === "input" ? "Prompts (input)" : "Replies (output)"}</legend>
      {entries.map((entry, index) => (
        <div className="row" key={index}>
          <Select label={`Scanner ${index + 1}`} value={entry.scanner} options={scanners} onChange={(scanner) => update(index, { scanner })} />
          <Select label="Action" value={entry.action ?? "flag"} options={ACTIONS} onChange={(action) => update(index, { action: action as GuardrailEntry["action"] })} />
          {entry.scanner === "denylist" ? (
            <Field label="Words" hint="Comma-separated" value={(entry.words ?? []).join(", ")} onChange={(e) => update(index, { words: splitList(e.target.value) })} />
          ) : null}
          <button type="button" className="small" onClick={() => onChange(entries.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => onChange([...entries, { scanner: scanners[0] ?? "pii", action: "flag" }])}>
        Add a scanner
      </button>
    </fieldset>
  );
}

function PolicyEditor({ model, initial, onSaved }: { model?: string; initial: GuardrailPolicy; onSaved: () => void }) {
  const api = useApi();
  const scanners = useQuery({ queryKey: ["guardrail-scanners"], queryFn: api.guardrailScanners });
  const [target, setTarget] = useState(model ?? "default");
  const [policy, setPolicy] = useState<GuardrailPolicy>(initial);
  const [error, setError] = useState<string | null>(null);
  const names = scanners.data?.data.map((s) => s.name) ?? [];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!target.trim()) return setError("Enter a model name, or default.");
    try {
      await api.putGuardrailPolicy(target.trim(), policy);
      onSaved();
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      {model ? null : <Field label="Model" hint="A model name, or default for the organisation's default." value={target} onChange={(e) => setTarget(e.target.value)} />}
      <EntriesEditor direction="input" entries={policy.input} scanners={names} onChange={(input) => setPolicy({ ...policy, input })} />
      <EntriesEditor direction="output" entries={policy.output} scanners={names} onChange={(output) => setPolicy({ ...policy, output })} />
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      <div className="actions">
        <button type="submit" className="primary">
          Save policy
        </button>
      </div>
    </form>
  );
}

function Events() {
  const api = useApi();
  const [direction, setDirection] = useState("");
  const [action, setAction] = useState("");
  const [scanner, setScanner] = useState("");
  // `before` of each page seen: the API pages backwards in time.
  const [befores, setBefores] = useState<(string | null)[]>([null]);
  const query = { limit: 50, direction, action, scanner: scanner.trim(), before: befores[befores.length - 1] };
  const events = useQuery({ queryKey: ["guardrail-events", query], queryFn: () => api.guardrailEvents(query), placeholderData: keepPreviousData });
  const reset = () => setBefores([null]);
  return (
    <>
      <h2>Recent findings</h2>
      <div className="toolbar">
        <Select label="Direction" value={direction} options={[{ value: "", label: "any" }, "input", "output"]} onChange={(v) => (setDirection(v), reset())} />
        <Select label="Action" value={action} options={[{ value: "", label: "any" }, ...ACTIONS]} onChange={(v) => (setAction(v), reset())} />
        <Field label="Scanner" value={scanner} onChange={(e) => (setScanner(e.target.value), reset())} />
      </div>
      <QueryView query={events}>
        {({ data }) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Model</th>
                  <th scope="col">Direction</th>
                  <th scope="col">Scanner / category</th>
                  <th scope="col">Action</th>
                  <th scope="col">Where</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {data.map((event) => (
                  <tr key={event.id}>
                    <td>{formatTime(event.created_at)}</td>
                    <td>{event.model}</td>
                    <td>{event.direction}</td>
                    <td>
                      {event.scanner} / {event.category}
                    </td>
                    <td>{event.action}</td>
                    <td>
                      <code>{event.location}</code>
                    </td>
                    <td>
                      <code>{event.request_id}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.length === 0 ? <p className="muted">No findings.</p> : null}
            <Pager
              page={befores.length}
              pageCount={null}
              hasNext={data.length === 50}
              label="Finding pages"
              onPage={(p) => {
                const last = data[data.length - 1];
                if (p > befores.length && last) setBefores([...befores, last.created_at]);
                else if (p < befores.length) setBefores(befores.slice(0, p));
              }}
            />
          </>
        )}
      </QueryView>
    </>
  );
}

export function GuardrailsPage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<{ model?: string; policy: GuardrailPolicy } | null>(null);
  const policies = useQuery({ queryKey: ["guardrails"], queryFn: api.guardrailPolicies });
  const remove = useMutation({
    mutationFn: (model: string) => api.deleteGuardrailPolicy(model),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["guardrails"] }),
  });
  const mayWrite = can("guardrails:write");
  return (
    <section>
      <PageHeader title="Guardrails">
        {mayWrite && policies.data ? (
          <button type="button" className="primary" onClick={() => setEditing({ policy: policies.data.platform_default })}>
            Add policy
          </button>
        ) : null}
      </PageHeader>
      <QueryView query={policies}>
        {({ data, platform_default }) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Prompts</th>
                <th scope="col">Replies</th>
                {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {data.map((record) => (
                <tr key={record.id}>
                  <td>{record.model === "default" ? "organisation default" : record.model}</td>
                  <td>{entriesSummary(record.policy.input)}</td>
                  <td>{entriesSummary(record.policy.output)}</td>
                  {mayWrite ? (
                    <td className="row-actions">
                      <button type="button" className="small" onClick={() => setEditing({ model: record.model, policy: record.policy })}>
                        Edit
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete the guardrail policy of ${record.model}? Its requests then get the next policy that applies.`}
                        onConfirm={() => remove.mutateAsync(record.model)}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
              <tr>
                <td>platform default (inferia.toml)</td>
                <td>{entriesSummary(platform_default.input)}</td>
                <td>{entriesSummary(platform_default.output)}</td>
                {mayWrite ? <td /> : null}
              </tr>
            </tbody>
          </table>
        )}
      </QueryView>
      <Events />
      <Dialog open={editing !== null} title={editing?.model ? `Guardrails of ${editing.model}` : "Add a guardrail policy"} onClose={() => setEditing(null)}>
        {editing ? (
          <PolicyEditor
            model={editing.model}
            initial={editing.policy}
            onSaved={() => {
              setEditing(null);
              void queryClient.invalidateQueries({ queryKey: ["guardrails"] });
            }}
          />
        ) : null}
      </Dialog>
    </section>
  );
}
