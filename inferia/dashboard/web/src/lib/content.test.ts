import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress, isIngesting, knowledgeBaseFromDraft, blankKnowledgeBase, parseTopK, documentTone } from "./knowledge";
import { blankNode, formatNodeResources, heartbeatAge, nodeFromDraft, parseGpus } from "./nodes";
import {
  blankTemplate,
  blankVariable,
  bodyFromDraft,
  draftFromBody,
  exampleVariables,
  parseDefault,
  parseRenderVariables,
  templateFromDraft,
} from "./templates";
import type { DocumentRecord } from "../api/types";

describe("template form", () => {
  const filled = () => ({
    ...blankTemplate(),
    name: " support.v2 ",
    messages: [
      { role: "system" as const, content: "You help {{ customer }}." },
      { role: "user" as const, content: "{{ question }}" },
    ],
  });

  it("builds the API's body: messages, typed variables and their defaults", () => {
    const parsed = templateFromDraft({
      ...filled(),
      variables: [
        { name: "customer", type: "string", required: false, default: "a customer" },
        { name: "question", type: "string", required: true, default: "" },
        { name: "tags", type: "array", required: false, default: '["a"]' },
      ],
    });
    expect(parsed.error).toBeUndefined();
    expect(parsed.body).toEqual({
      name: "support.v2",
      messages: [
        { role: "system", content: "You help {{ customer }}." },
        { role: "user", content: "{{ question }}" },
      ],
      variables: [
        { name: "customer", type: "string", default: "a customer" },
        { name: "question", type: "string", required: true },
        { name: "tags", type: "array", default: ["a"] },
      ],
    });
  });

  it("names the field at fault", () => {
    expect(templateFromDraft({ ...filled(), name: "" }).field).toBe("name");
    expect(templateFromDraft({ ...filled(), name: "-bad" }).field).toBe("name");
    expect(templateFromDraft({ ...filled(), name: "a b" }).field).toBe("name");
    expect(templateFromDraft({ ...filled(), messages: [] }).field).toBe("messages");
    expect(templateFromDraft({ ...filled(), messages: [{ role: "user", content: "  " }] }).error).toBe("Message 1 is empty.");
    expect(templateFromDraft({ ...filled(), variables: [{ ...blankVariable(), name: "_private" }] }).field).toBe("variables");
    expect(templateFromDraft({ ...filled(), variables: [{ ...blankVariable(), name: "1st" }] }).field).toBe("variables");
    const twice = templateFromDraft({ ...filled(), variables: [{ ...blankVariable(), name: "x" }, { ...blankVariable(), name: "x" }] });
    expect(twice.error).toMatch(/declared twice/);
    const badDefault = templateFromDraft({ ...filled(), variables: [{ name: "n", type: "integer", required: false, default: "1.5" }] });
    expect(badDefault).toMatchObject({ field: "variables" });
  });

  it("parses defaults by type: text for strings, JSON for the rest", () => {
    expect(parseDefault("", "string")).toEqual({});
    expect(parseDefault("42", "string")).toEqual({ value: "42" });
    expect(parseDefault(" ", "number")).toEqual({});
    expect(parseDefault("2.5", "number")).toEqual({ value: 2.5 });
    expect(parseDefault("3", "integer")).toEqual({ value: 3 });
    expect(parseDefault("true", "boolean")).toEqual({ value: true });
    expect(parseDefault('{"a": 1}', "object")).toEqual({ value: { a: 1 } });
    expect(parseDefault("[1]", "object").error).toMatch(/not of type object/);
    expect(parseDefault("yes", "boolean").error).toMatch(/JSON/);
  });

  it("turns a stored version into the next version's draft and back", () => {
    const body = {
      messages: [{ role: "user" as const, content: "Hi {{ n }}" }],
      variables: [
        { name: "n", type: "integer" as const, required: true, default: 2 },
        { name: "s", type: "string" as const },
      ],
    };
    const draft = draftFromBody("t", body);
    expect(draft.variables[0]).toEqual({ name: "n", type: "integer", required: true, default: "2" });
    expect(draft.variables[1]?.default).toBe("");
    expect(bodyFromDraft(draft).body).toEqual({ messages: body.messages, variables: [body.variables[0], { name: "s", type: "string" }] });
  });

  it("reads the preview's variables as a JSON object and suggests one", () => {
    expect(parseRenderVariables("")).toEqual({ value: {} });
    expect(parseRenderVariables('{"name": "Ada"}')).toEqual({ value: { name: "Ada" } });
    expect(parseRenderVariables("[1]").error).toMatch(/JSON object/);
    expect(parseRenderVariables("{").error).toMatch(/JSON object/);
    expect(JSON.parse(exampleVariables([{ name: "a", type: "string" }, { name: "b", type: "integer", default: 4 }]))).toEqual({ a: "", b: 4 });
    expect(exampleVariables([])).toBe("");
  });
});

describe("knowledge base form and documents", () => {
  it("builds the API's body", () => {
    expect(knowledgeBaseFromDraft({ ...blankKnowledgeBase(), name: " docs ", embedding_model: " embed-small " }).body).toEqual({
      name: "docs",
      embedding_model: "embed-small",
      chunk_tokens: 400,
      chunk_overlap: 50,
    });
  });

  it("names the field at fault", () => {
    const ok = { ...blankKnowledgeBase(), name: "docs", embedding_model: "m" };
    expect(knowledgeBaseFromDraft({ ...ok, name: "" }).field).toBe("name");
    expect(knowledgeBaseFromDraft({ ...ok, name: "my docs" }).field).toBe("name");
    expect(knowledgeBaseFromDraft({ ...ok, embedding_model: "" }).field).toBe("embedding_model");
    expect(knowledgeBaseFromDraft({ ...ok, embedding_model: "a b" }).field).toBe("embedding_model");
    expect(knowledgeBaseFromDraft({ ...ok, chunk_tokens: "8" }).field).toBe("chunk_tokens");
    expect(knowledgeBaseFromDraft({ ...ok, chunk_tokens: "" }).field).toBe("chunk_tokens");
    expect(knowledgeBaseFromDraft({ ...ok, chunk_overlap: "-1" }).field).toBe("chunk_overlap");
    expect(knowledgeBaseFromDraft({ ...ok, chunk_tokens: "100", chunk_overlap: "100" }).field).toBe("chunk_overlap");
  });

  it("polls while a document is being ingested, and shows its progress", () => {
    const doc = (state: DocumentRecord["state"]) => ({ state }) as DocumentRecord;
    expect(isIngesting([doc("ready"), doc("embedding")])).toBe(true);
    expect(isIngesting([doc("ready"), doc("failed")])).toBe(false);
    expect(isIngesting([])).toBe(false);
    expect(documentTone("ready")).toBe("ok");
    expect(documentTone("failed")).toBe("bad");
    expect(documentTone("queued")).toBe("");
    expect(formatProgress({ chunks_done: 0, chunks_total: 0 })).toBe("-");
    expect(formatProgress({ chunks_done: 3, chunks_total: 10 })).toBe("3 / 10 chunks (30 %)");
    expect(formatBytes(12)).toBe("12 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });

  it("reads the number of search results", () => {
    expect(parseTopK("")).toEqual({});
    expect(parseTopK("5")).toEqual({ value: 5 });
    expect(parseTopK("0").error).toBeDefined();
    expect(parseTopK("101").error).toBeDefined();
    expect(parseTopK("2.5").error).toBeDefined();
  });
});

describe("compute node form", () => {
  it("builds the API's body; blank fields are left out", () => {
    expect(nodeFromDraft(blankNode("pool-1")).body).toEqual({ pool_id: "pool-1" });
    expect(
      nodeFromDraft({
        ...blankNode("pool-1"),
        provider_instance_id: " i-123 ",
        endpoint: "http://10.0.0.5:8000",
        gpus: "A100=2, L4 = 1, A100=1",
        cpus: "16",
        memory_gb: "64.5",
      }).body,
    ).toEqual({
      pool_id: "pool-1",
      provider_instance_id: "i-123",
      endpoint: "http://10.0.0.5:8000",
      capacity: { gpus: { A100: 3, L4: 1 }, cpus: 16, memory_gb: 64.5 },
    });
  });

  it("names the field at fault", () => {
    expect(nodeFromDraft(blankNode()).field).toBe("pool_id");
    expect(nodeFromDraft({ ...blankNode("p"), endpoint: "10.0.0.5:8000" }).field).toBe("endpoint");
    expect(nodeFromDraft({ ...blankNode("p"), gpus: "A100" }).field).toBe("gpus");
    expect(nodeFromDraft({ ...blankNode("p"), gpus: "A100=-1" }).field).toBe("gpus");
    expect(nodeFromDraft({ ...blankNode("p"), cpus: "-2" }).field).toBe("cpus");
    expect(nodeFromDraft({ ...blankNode("p"), memory_gb: "lots" }).field).toBe("memory_gb");
    expect(parseGpus("")).toEqual({ value: {} });
  });

  it("shows resources and heartbeat ages in words", () => {
    expect(formatNodeResources({ gpus: {}, gpu_memory_gb: 0, cpus: 0, memory_gb: 0 })).toBe("none");
    expect(formatNodeResources({ gpus: { A100: 2 }, gpu_memory_gb: 80, cpus: 1, memory_gb: 64 })).toBe(
      "2 × A100, 80 GB GPU memory, 1 CPU, 64 GB memory",
    );
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(heartbeatAge(null, now)).toBe("never");
    expect(heartbeatAge("2026-01-01T11:59:48Z", now)).toBe("12 s ago");
    expect(heartbeatAge("2026-01-01T11:55:00Z", now)).toBe("5 min ago");
    expect(heartbeatAge("2026-01-01T09:00:00Z", now)).toBe("3 h ago");
    expect(heartbeatAge("2025-12-30T12:00:00Z", now)).toBe("2 d ago");
  });
});
