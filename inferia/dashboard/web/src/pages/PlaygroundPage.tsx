import { useQuery } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { listGatewayModels, streamChat, type ChatMessage, type ChatResult } from "../api/chat";
import { describeError } from "../api/errors";
import type { GuardrailEvent } from "../api/types";
import { useApi, useCan, useGatewayBase, useSession } from "../auth/session";
import { formatMs } from "../lib/format";
import { ErrorPanel } from "../ui/ErrorPanel";
import { Field, Select } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";

// The playground's key lives in memory for this tab only (a reload forgets it).
let rememberedKey = "";

function useGuardrailFindings(requestId: string | null) {
  const api = useApi();
  const can = useCan();
  return useQuery({
    queryKey: ["guardrail-events", "request", requestId],
    enabled: Boolean(requestId) && can("guardrails:read"),
    // Findings are written off the request path: look for them a few times.
    refetchInterval: (query) => ((query.state.data?.length ?? 0) > 0 || query.state.dataUpdateCount > 4 ? false : 700),
    queryFn: async (): Promise<GuardrailEvent[]> =>
      (await api.guardrailEvents({ limit: 200 })).data.filter((event) => event.request_id === requestId),
  });
}

export function PlaygroundPage() {
  const api = useApi();
  const can = useCan();
  const { me } = useSession();
  const gatewayBase = useGatewayBase();
  const [key, setKey] = useState(rememberedKey);
  const [model, setModel] = useState("");
  const [system, setSystem] = useState("");
  const [prompt, setPrompt] = useState("");
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<ChatResult | null>(null);
  const abort = useRef<AbortController | null>(null);
  const models = useQuery({
    queryKey: ["gateway-models", gatewayBase, key],
    queryFn: () => listGatewayModels(gatewayBase, key),
    enabled: key.startsWith("sk-"),
  });
  const findings = useGuardrailFindings(result?.requestId ?? null);
  const chosenModel = model || models.data?.[0] || "";

  const rememberKey = (value: string) => {
    rememberedKey = value;
    setKey(value);
  };
  const createKey = async () => {
    setError(null);
    try {
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      const created = await api.createApiKey({ name: `playground (${me?.email ?? "dashboard"})`, expires_at: expires });
      rememberKey(created.key);
    } catch (failure) {
      setError(failure);
    }
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!prompt.trim() || !chosenModel) return;
    const history: ChatMessage[] = [...messages, { role: "user", content: prompt }];
    const request = system.trim() ? [{ role: "system" as const, content: system }, ...history] : history;
    setMessages([...history, { role: "assistant", content: "" }]);
    setPrompt("");
    setError(null);
    setResult(null);
    setStreaming(true);
    abort.current = new AbortController();
    try {
      const outcome = await streamChat({
        base: gatewayBase,
        key,
        model: chosenModel,
        messages: request,
        signal: abort.current.signal,
        onDelta: (text) =>
          setMessages((current) => {
            const last = current[current.length - 1];
            return last ? [...current.slice(0, -1), { ...last, content: last.content + text }] : current;
          }),
      });
      setResult(outcome);
    } catch (failure) {
      setError(failure);
    } finally {
      setStreaming(false);
    }
  };

  return (
    <section className="playground">
      <PageHeader title="Playground" />
      <div className="toolbar">
        <Field
          label="API key"
          type="password"
          autoComplete="off"
          hint="Kept in this tab's memory only."
          value={key}
          onChange={(e) => rememberKey(e.target.value.trim())}
        />
        {can("api_keys:write") ? (
          <button type="button" onClick={() => void createKey()}>
            Create a 1-hour key
          </button>
        ) : null}
        {models.data ? (
          <Select label="Model" value={chosenModel} options={models.data} onChange={setModel} />
        ) : null}
      </div>
      {models.isError ? <ErrorPanel error={models.error} onRetry={() => void models.refetch()} /> : null}
      <Field label="System prompt" value={system} onChange={(e) => setSystem(e.target.value)} />
      <ol className="chat" aria-live="polite" aria-label="Conversation">
        {messages.map((message, index) => (
          <li key={index} className={`message ${message.role}`}>
            <span className="role">{message.role === "user" ? "You" : "Model"}</span>
            <div className="content">{message.content || (streaming ? "…" : "")}</div>
          </li>
        ))}
      </ol>
      {error ? <p className="field-error" role="alert">{describeError(error)}</p> : null}
      <form className="composer" onSubmit={(event) => void send(event)}>
        <label htmlFor="prompt" className="visually-hidden">
          Message
        </label>
        <textarea id="prompt" rows={3} value={prompt} placeholder="Say something…" onChange={(e) => setPrompt(e.target.value)} />
        <div className="actions">
          {streaming ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
          <button type="button" onClick={() => (setMessages([]), setResult(null))} disabled={streaming}>
            Clear
          </button>
          <button type="submit" className="primary" disabled={streaming || !chosenModel}>
            Send
          </button>
        </div>
      </form>
      {result ? (
        <div className="card" data-testid="request-facts">
          <dl className="facts">
            <dt>Request id</dt>
            <dd>
              <code>{result.requestId ?? "-"}</code>
            </dd>
            <dt>Inferia overhead</dt>
            <dd>{formatMs(result.overheadMs)}</dd>
            <dt>Guardrail findings</dt>
            <dd>
              {!can("guardrails:read") ? (
                "your role cannot read them"
              ) : findings.data && findings.data.length > 0 ? (
                <ul>
                  {findings.data.map((finding) => (
                    <li key={finding.id}>
                      {finding.direction}: {finding.scanner} / {finding.category} → {finding.action} at <code>{finding.location}</code>
                    </li>
                  ))}
                </ul>
              ) : (
                "none"
              )}
            </dd>
          </dl>
        </div>
      ) : null}
    </section>
  );
}
