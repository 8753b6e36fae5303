import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import type { ApiKeyRecord, CreatedKey } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatTime } from "../lib/format";
import { matches, paginate } from "../lib/paginate";
import { checkExpiry, checkName, hasErrors, parseLimits, splitList, type Errors } from "../lib/validation";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CopyButton } from "../ui/CopyButton";
import { Dialog } from "../ui/Dialog";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";

type KeyField = "name" | "expires" | "rpm" | "tpm";

function keyState(key: ApiKeyRecord): string {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return "expired";
  return "active";
}

function CreateKeyForm({ onCreated }: { onCreated: (created: CreatedKey) => void }) {
  const api = useApi();
  const can = useCan();
  const [name, setName] = useState("");
  const [models, setModels] = useState("");
  const [expires, setExpires] = useState("");
  const [rpm, setRpm] = useState("");
  const [tpm, setTpm] = useState("");
  const [errors, setErrors] = useState<Errors<KeyField>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const mayLimit = can("policies:write");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const expiry = checkExpiry(expires);
    const limits = parseLimits({ rpm, tpm });
    const found: Errors<KeyField> = { name: checkName(name), expires: expiry.error, ...limits.errors };
    setErrors(found);
    if (hasErrors(found)) return;
    setBusy(true);
    setFailure(null);
    try {
      const allowed = splitList(models);
      const created = await api.createApiKey({
        name: name.trim(),
        ...(allowed.length ? { allowed_models: allowed } : {}),
        expires_at: expiry.iso,
      });
      // Rate limits are a policy of the key (scope api_key), created right after it.
      if (mayLimit && Object.keys(limits.limits).length > 0) {
        await api.createPolicy({ scope: "api_key", subject: created.api_key.id, model: "*", limits: limits.limits });
      }
      onCreated(created);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field
        label="Allowed models"
        hint="Comma-separated; empty = every model."
        value={models}
        onChange={(e) => setModels(e.target.value)}
      />
      <Field label="Expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} error={errors.expires} hint="Empty = never." />
      {mayLimit ? (
        <div className="row">
          <Field label="Requests per minute" inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} error={errors.rpm} />
          <Field label="Tokens per minute" inputMode="numeric" value={tpm} onChange={(e) => setTpm(e.target.value)} error={errors.tpm} />
        </div>
      ) : null}
      {failure ? <p className="field-error" role="alert">{describeError(failure)}</p> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Create key
        </button>
      </div>
    </form>
  );
}

function NewSecret({ created, onDone }: { created: CreatedKey; onDone: () => void }) {
  return (
    <div>
      <p>
        Copy the key now: it is shown only once. Key <strong>{created.api_key.name}</strong>:
      </p>
      <p className="secret">
        <code data-testid="new-key">{created.key}</code>
      </p>
      <div className="actions">
        <CopyButton text={created.key} label="Copy key" />
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function ApiKeysPage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const keys = useQuery({ queryKey: ["api-keys", includeRevoked], queryFn: () => api.apiKeys(includeRevoked) });
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeApiKey(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const mayWrite = can("api_keys:write");

  return (
    <section>
      <PageHeader title="API keys">
        {mayWrite ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create key
          </button>
        ) : null}
      </PageHeader>
      <div className="toolbar">
        <Field label="Filter" placeholder="name or prefix" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
        <label className="checkbox">
          <input type="checkbox" checked={includeRevoked} onChange={(e) => (setIncludeRevoked(e.target.checked), setPage(1))} /> Show revoked keys
        </label>
      </div>
      <QueryView query={keys}>
        {({ data }) => {
          const shown = paginate(
            data.filter((key) => matches(filter, key.name, key.prefix)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Models</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Created</th>
                    <th scope="col">State</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((key) => (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}</code>
                      </td>
                      <td>{key.allowed_models.length ? key.allowed_models.join(", ") : "all"}</td>
                      <td>{key.expires_at ? formatTime(key.expires_at) : "never"}</td>
                      <td>{formatTime(key.created_at)}</td>
                      <td>{keyState(key)}</td>
                      {mayWrite ? (
                        <td>
                          {key.revoked_at ? null : (
                            <ConfirmButton
                              label="Revoke"
                              accessibleLabel={`Revoke ${key.name}`}
                              question={`Revoke the key "${key.name}" (${key.prefix})? Requests with it are refused within a second. This cannot be undone.`}
                              onConfirm={() => revoke.mutateAsync(key.id)}
                            />
                          )}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No keys{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog
        open={creating}
        title={created ? "Your new API key" : "Create an API key"}
        onClose={() => {
          setCreating(false);
          setCreated(null);
        }}
      >
        {created ? (
          <NewSecret
            created={created}
            onDone={() => {
              setCreating(false);
              setCreated(null);
            }}
          />
        ) : (
          <CreateKeyForm
            onCreated={(key) => {
              setCreated(key);
              void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
            }}
          />
        )}
      </Dialog>
    </section>
  );
}
