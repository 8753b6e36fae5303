import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { describeError } from "../api/errors";
import type { KnowledgeBaseRecord, SearchHit } from "../api/types";
import { useApi, useCan } from "../auth/session";
import { formatTime } from "../lib/format";
import { blankKnowledgeBase, documentTone, formatBytes, formatProgress, isIngesting, knowledgeBaseFromDraft, parseTopK } from "../lib/knowledge";
import { matches, paginate } from "../lib/paginate";
import { ConfirmButton } from "../ui/ConfirmButton";
import { Dialog } from "../ui/Dialog";
import { Field } from "../ui/Field";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { QueryView } from "../ui/QueryView";
import { useDraftForm } from "../ui/useDraftForm";

const POLL_MS = 1500;

function KnowledgeBaseForm({ onSaved }: { onSaved: (base: KnowledgeBaseRecord) => void }) {
  const api = useApi();
  const { draft, set, errorOf, formError, busy, onSubmit } = useDraftForm(blankKnowledgeBase, knowledgeBaseFromDraft, api.createKnowledgeBase, onSaved);
  return (
    <form onSubmit={onSubmit} noValidate>
      <Field label="Knowledge base name" value={draft.name} error={errorOf("name")} onChange={(e) => set({ name: e.target.value })} />
      <Field
        label="Embedding model"
        hint="A model of the gateway that answers /v1/embeddings."
        value={draft.embedding_model}
        error={errorOf("embedding_model")}
        onChange={(e) => set({ embedding_model: e.target.value })}
      />
      <div className="row">
        <Field label="Chunk size (tokens)" inputMode="numeric" value={draft.chunk_tokens} error={errorOf("chunk_tokens")} onChange={(e) => set({ chunk_tokens: e.target.value })} />
        <Field label="Chunk overlap (tokens)" inputMode="numeric" value={draft.chunk_overlap} error={errorOf("chunk_overlap")} onChange={(e) => set({ chunk_overlap: e.target.value })} />
      </div>
      {formError ? (
        <p className="field-error" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Create knowledge base
        </button>
      </div>
    </form>
  );
}

function UploadForm({ baseId, onUploaded }: { baseId: string; onUploaded: () => void }) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  // A new key empties the file input after an upload.
  const [inputKey, setInputKey] = useState(0);
  const [title, setTitle] = useState("");
  const [fileError, setFileError] = useState<string | undefined>();
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) {
      setFileError("Choose a file.");
      return;
    }
    setFileError(undefined);
    setBusy(true);
    setFailure(null);
    try {
      await api.uploadDocument(baseId, file, title.trim() || undefined);
      setTitle("");
      setFile(null);
      setInputKey((k) => k + 1);
      onUploaded();
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="toolbar">
      <Field label="Document" type="file" key={inputKey} onChange={(e) => setFile(e.target.files?.[0] ?? null)} error={fileError} accept=".txt,.md,.markdown,.html,.htm,.pdf,.docx,text/*" />
      <Field label="Title" hint="Empty = the file's name." value={title} onChange={(e) => setTitle(e.target.value)} />
      <button type="submit" className="primary" disabled={busy}>
        Upload
      </button>
      {busy ? (
        <span role="status" className="muted">
          Uploading {file?.name}…
        </span>
      ) : null}
      {failure ? (
        <p className="field-error" role="alert">
          {describeError(failure)}
        </p>
      ) : null}
    </form>
  );
}

function SearchBox({ baseId }: { baseId: string }) {
  const api = useApi();
  const [query, setQuery] = useState("");
  const [topK, setTopK] = useState("");
  const [problem, setProblem] = useState<{ field?: "query" | "top_k"; error: string } | null>(null);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!query.trim()) return setProblem({ field: "query", error: "Enter a question or some words." });
    const k = parseTopK(topK);
    if (k.error) return setProblem({ field: "top_k", error: k.error });
    setBusy(true);
    setProblem(null);
    try {
      setHits((await api.searchKnowledgeBase(baseId, query, k.value)).data);
    } catch (failure) {
      setHits(null);
      setProblem({ error: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="card" role="search" aria-label="Search the knowledge base">
      <h2>Search</h2>
      <div className="toolbar">
        <Field label="Query" value={query} error={problem?.field === "query" ? problem.error : undefined} onChange={(e) => setQuery(e.target.value)} />
        <Field label="Results" inputMode="numeric" placeholder="default" value={topK} error={problem?.field === "top_k" ? problem.error : undefined} onChange={(e) => setTopK(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          Search
        </button>
      </div>
      {problem && !problem.field ? (
        <p className="field-error" role="alert">
          {problem.error}
        </p>
      ) : null}
      {hits ? (
        hits.length ? (
          <table aria-label="Search results">
            <thead>
              <tr>
                <th scope="col">Score</th>
                <th scope="col">Document</th>
                <th scope="col">Chunk</th>
                <th scope="col">Text</th>
              </tr>
            </thead>
            <tbody>
              {hits.map((hit) => (
                <tr key={`${hit.document_id}-${hit.position}`}>
                  <td>{hit.score.toFixed(3)}</td>
                  <td>{hit.title}</td>
                  <td>{hit.position}</td>
                  <td>
                    <div className="content">{hit.text}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No passages found.</p>
        )
      ) : null}
    </form>
  );
}

export function KnowledgeBasesPage() {
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const bases = useQuery({ queryKey: ["knowledge-bases"], queryFn: api.knowledgeBases });
  const mayWrite = can("knowledge_bases:write");
  return (
    <section>
      <PageHeader title="Knowledge bases">
        {mayWrite ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create knowledge base
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">Documents chunked and embedded for retrieval: a request names a knowledge base and gets its best passages.</p>
      <div className="toolbar">
        <Field label="Filter" placeholder="name or model" value={filter} onChange={(e) => (setFilter(e.target.value), setPage(1))} />
      </div>
      <QueryView query={bases}>
        {({ data }) => {
          const shown = paginate(
            data.filter((b) => matches(filter, b.name, b.embedding_model)),
            page,
          );
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Embedding model</th>
                    <th scope="col">Chunks</th>
                    <th scope="col">Dimensions</th>
                    <th scope="col">Created</th>
                    {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                  </tr>
                </thead>
                <tbody>
                  {shown.items.map((base) => (
                    <tr key={base.id}>
                      <td>
                        <Link to={`/knowledge-bases/${encodeURIComponent(base.id)}`}>{base.name}</Link>
                      </td>
                      <td>{base.embedding_model}</td>
                      <td>
                        {base.chunk_tokens} tokens, {base.chunk_overlap} overlap
                      </td>
                      <td>{base.dimensions ?? "-"}</td>
                      <td>{formatTime(base.created_at)}</td>
                      {mayWrite ? (
                        <td>
                          <ConfirmButton
                            label="Delete"
                            accessibleLabel={`Delete knowledge base ${base.name}`}
                            question={`Delete the knowledge base "${base.name}" with its documents? Requests that name it will find nothing.`}
                            onConfirm={async () => {
                              await api.deleteKnowledgeBase(base.id);
                              await queryClient.invalidateQueries({ queryKey: ["knowledge-bases"] });
                            }}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.total === 0 ? <p className="muted">No knowledge bases{filter ? " match the filter" : " yet"}.</p> : null}
              <Pager page={shown.page} pageCount={shown.pageCount} onPage={setPage} />
            </>
          );
        }}
      </QueryView>
      <Dialog open={creating} title="Create a knowledge base" onClose={() => setCreating(false)}>
        <KnowledgeBaseForm
          onSaved={(base) => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: ["knowledge-bases"] });
            navigate(`/knowledge-bases/${encodeURIComponent(base.id)}`);
          }}
        />
      </Dialog>
    </section>
  );
}

export function KnowledgeBasePage() {
  const { baseId = "" } = useParams();
  const api = useApi();
  const can = useCan();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const base = useQuery({ queryKey: ["knowledge-bases", baseId], queryFn: () => api.knowledgeBase(baseId) });
  const documents = useQuery({
    queryKey: ["knowledge-bases", baseId, "documents"],
    queryFn: () => api.documents(baseId),
    // Ingestion runs in the background: follow it until every document settles.
    refetchInterval: (query) => (query.state.data && isIngesting(query.state.data.data) ? POLL_MS : false),
  });
  const refreshDocuments = () => queryClient.invalidateQueries({ queryKey: ["knowledge-bases", baseId, "documents"] });
  const mayWrite = can("knowledge_bases:write");
  return (
    <section>
      <p>
        <Link to="/knowledge-bases">← Knowledge bases</Link>
      </p>
      <QueryView query={base}>
        {(record) => (
          <>
            <PageHeader title={record.name}>
              {mayWrite ? (
                <ConfirmButton
                  label="Delete"
                  question={`Delete the knowledge base "${record.name}" with its documents? Requests that name it will find nothing.`}
                  onConfirm={async () => {
                    await api.deleteKnowledgeBase(record.id);
                    await queryClient.invalidateQueries({ queryKey: ["knowledge-bases"] });
                    navigate("/knowledge-bases");
                  }}
                />
              ) : null}
            </PageHeader>
            <dl className="facts">
              <dt>Embedding model</dt>
              <dd>{record.embedding_model}</dd>
              <dt>Chunks</dt>
              <dd>
                {record.chunk_tokens} tokens, {record.chunk_overlap} overlap
              </dd>
              <dt>Dimensions</dt>
              <dd>{record.dimensions ?? "not yet known"}</dd>
              <dt>Created</dt>
              <dd>{formatTime(record.created_at)}</dd>
            </dl>
          </>
        )}
      </QueryView>
      <h2>Documents</h2>
      {mayWrite ? <UploadForm baseId={baseId} onUploaded={() => void refreshDocuments()} /> : null}
      <QueryView query={documents}>
        {({ data }) => (
          <>
            <table aria-label="Documents">
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">File</th>
                  <th scope="col">Size</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Updated</th>
                  {mayWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                </tr>
              </thead>
              <tbody>
                {data.map((document) => (
                  <tr key={document.id}>
                    <td>{document.title}</td>
                    <td>
                      {document.name}
                      <div className="muted">{document.content_type}</div>
                    </td>
                    <td>{formatBytes(document.size_bytes)}</td>
                    <td>
                      <span className={`state ${documentTone(document.state)}`}>{document.state}</span>
                      {document.error ? <div className="field-error">{document.error}</div> : null}
                    </td>
                    <td>{formatProgress(document.progress)}</td>
                    <td>{formatTime(document.updated_at)}</td>
                    {mayWrite ? (
                      <td>
                        <ConfirmButton
                          label="Delete"
                          accessibleLabel={`Delete document ${document.title}`}
                          question={`Delete the document "${document.title}" and its passages?`}
                          onConfirm={async () => {
                            await api.deleteDocument(baseId, document.id);
                            await refreshDocuments();
                          }}
                        />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
            {data.length === 0 ? <p className="muted">No documents yet.</p> : null}
          </>
        )}
      </QueryView>
      <SearchBox baseId={baseId} />
    </section>
  );
}
