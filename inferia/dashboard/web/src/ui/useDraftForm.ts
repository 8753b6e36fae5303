import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";

/** What a form's parser says: the API's body, or the first problem and its field. */
export interface Parsed<Body, Key extends string> {
  body?: Body;
  field?: Key;
  error?: string;
}

/** A form over a draft of text fields: the draft, the problem named next to its field
 * (or under the form when it is the API's answer), and a submit that parses, then saves. */
export function useDraftForm<Draft extends object, Body, Result>(
  initial: Draft | (() => Draft),
  parse: (draft: Draft) => Parsed<Body, Extract<keyof Draft, string>>,
  save: (body: Body) => Promise<Result>,
  onSaved: (result: Result) => void,
) {
  type Key = Extract<keyof Draft, string>;
  const [draft, setDraft] = useState<Draft>(initial);
  const [problem, setProblem] = useState<{ field?: Key; error: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  const errorOf = (field: Key) => (problem?.field === field ? problem.error : undefined);
  const formError = problem && !problem.field ? problem.error : null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parse(draft);
    if (parsed.body === undefined) {
      setProblem({ ...(parsed.field ? { field: parsed.field } : {}), error: parsed.error ?? "Check the form." });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onSaved(await save(parsed.body));
    } catch (failure) {
      setProblem({ error: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };
  return { draft, set, errorOf, formError, busy, onSubmit: (event: FormEvent) => void submit(event) };
}
