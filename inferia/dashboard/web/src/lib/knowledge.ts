/** The knowledge base forms and document states: pure logic, so it is unit-tested. */

import type { Parsed } from "../ui/useDraftForm";
import type { DocumentRecord, DocumentState, KnowledgeBaseInput } from "../api/types";

const NAME = /^[A-Za-z0-9._-]+$/;

export interface KnowledgeBaseDraft {
  name: string;
  embedding_model: string;
  chunk_tokens: string;
  chunk_overlap: string;
}

export const blankKnowledgeBase = (): KnowledgeBaseDraft => ({
  name: "",
  embedding_model: "",
  chunk_tokens: "400",
  chunk_overlap: "50",
});

function wholeNumber(text: string, min: number, max: number): number | null {
  const value = Number(text.trim());
  return text.trim() && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/** The create form -> the API's body, or the first problem found, by field. */
export function knowledgeBaseFromDraft(draft: KnowledgeBaseDraft): Parsed<KnowledgeBaseInput, keyof KnowledgeBaseDraft> {
  const name = draft.name.trim();
  if (!name) return { field: "name", error: "Enter a name." };
  if (name.length > 200 || !NAME.test(name)) {
    return { field: "name", error: 'The name may hold only letters, digits, ".", "_" and "-" (at most 200).' };
  }
  const model = draft.embedding_model.trim();
  if (!model) return { field: "embedding_model", error: "Enter the embedding model's name." };
  if (model.length > 200 || /\s/.test(model)) return { field: "embedding_model", error: "A model name has no spaces." };
  const tokens = wholeNumber(draft.chunk_tokens, 16, 8192);
  if (tokens === null) return { field: "chunk_tokens", error: "A whole number from 16 to 8192." };
  const overlap = wholeNumber(draft.chunk_overlap, 0, 4096);
  if (overlap === null) return { field: "chunk_overlap", error: "A whole number from 0 to 4096." };
  if (overlap >= tokens) return { field: "chunk_overlap", error: "Smaller than the chunk size." };
  return { body: { name, embedding_model: model, chunk_tokens: tokens, chunk_overlap: overlap } };
}

/** States a document leaves by itself: the list is polled while one is in them. */
const SETTLING: ReadonlySet<DocumentState> = new Set(["queued", "parsing", "embedding"]);

export function isIngesting(documents: readonly DocumentRecord[]): boolean {
  return documents.some((document) => SETTLING.has(document.state));
}

export function documentTone(state: DocumentState): "ok" | "bad" | "" {
  if (state === "ready") return "ok";
  if (state === "failed") return "bad";
  return "";
}

/** "3 / 10 chunks (30 %)", or "-" before the document is chunked. */
export function formatProgress(progress: DocumentRecord["progress"]): string {
  const { chunks_done: done, chunks_total: total } = progress;
  if (total <= 0) return "-";
  return `${done} / ${total} chunks (${Math.floor((100 * Math.min(done, total)) / total)} %)`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The search's "results" field: blank = the server's default, else 1 to 100. */
export function parseTopK(text: string): { value?: number; error?: string } {
  if (!text.trim()) return {};
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 1 && value <= 100 ? { value } : { error: "A whole number from 1 to 100." };
}
