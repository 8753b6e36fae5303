import { describe, expect, it } from "vitest";
import {
  appendLog,
  blankPool,
  logText,
  blankRegistryModel,
  checkReplicas,
  formatResources,
  isSettling,
  parseObject,
  poolFromDraft,
  registryModelFromDraft,
  splitList,
  stateTone,
  timeline,
} from "./deployments";

describe("pool form", () => {
  it("builds the API's body: JSON config, lists, numbers; blank credentials left out", () => {
    const parsed = poolFromDraft({
      ...blankPool(),
      name: " gpu-pool ",
      config: '{"max_replicas": 2}',
      regions: "eu-west, us-east,,",
      max_nodes: "3",
      max_cost_per_hour: "1.5",
    });
    expect(parsed.error).toBeUndefined();
    expect(parsed.body).toEqual({
      name: "gpu-pool",
      provider: "local",
      config: { max_replicas: 2 },
      allowed_gpu_types: [],
      regions: ["eu-west", "us-east"],
      min_nodes: 0,
      max_nodes: 3,
      max_cost_per_hour: 1.5,
    });
  });

  it("names the field at fault", () => {
    expect(poolFromDraft({ ...blankPool(), name: "" }).field).toBe("name");
    expect(poolFromDraft({ ...blankPool(), name: "a b" }).field).toBe("name");
    expect(poolFromDraft({ ...blankPool(), name: "p", config: "[1]" }).field).toBe("config");
    expect(poolFromDraft({ ...blankPool(), name: "p", config: "{" }).field).toBe("config");
    expect(poolFromDraft({ ...blankPool(), name: "p", credentials: '{"k": 1}' }).field).toBe("credentials");
    expect(poolFromDraft({ ...blankPool(), name: "p", min_nodes: "3", max_nodes: "2" }).field).toBe("max_nodes");
    expect(poolFromDraft({ ...blankPool(), name: "p", min_nodes: "1.5" }).field).toBe("min_nodes");
    expect(poolFromDraft({ ...blankPool(), name: "p", max_cost_per_hour: "-1" }).field).toBe("max_cost_per_hour");
  });

  it("sends credentials only when given, as text", () => {
    expect(poolFromDraft({ ...blankPool(), name: "p", credentials: '{"token": "s"}' }).body?.credentials).toEqual({ token: "s" });
  });
});

describe("registry form", () => {
  const draft = { ...blankRegistryModel(), name: "qwen", version: "1.0+cpu", artifact_uri: "hf://Qwen/Qwen2.5-0.5B" };

  it("builds the API's body: arguments one per line, resources as numbers", () => {
    const parsed = registryModelFromDraft({ ...draft, engine_args: "--max-model-len 4096\n\n--dtype half", cpus: "2", memory_gb: "" });
    expect(parsed.body).toEqual({
      name: "qwen",
      version: "1.0+cpu",
      artifact_uri: "hf://Qwen/Qwen2.5-0.5B",
      engine: "vllm",
      engine_args: ["--max-model-len 4096", "--dtype half"],
      command: [],
      resources: { gpus: 0, gpu_memory_gb: 0, cpus: 2, memory_gb: 0 },
    });
  });

  it("refuses what the API would refuse", () => {
    expect(registryModelFromDraft({ ...draft, artifact_uri: "https://x" }).field).toBe("artifact_uri");
    expect(registryModelFromDraft({ ...draft, version: "1 0" }).field).toBe("version");
    expect(registryModelFromDraft({ ...draft, gpus: "0.5" }).field).toBe("gpus");
    expect(registryModelFromDraft({ ...draft, engine: "openai-compatible" }).field).toBe("command");
    expect(registryModelFromDraft({ ...draft, engine: "openai-compatible", command: "{python}\n-m\nserver" }).body?.command).toEqual([
      "{python}",
      "-m",
      "server",
    ]);
  });
});

describe("deployment states", () => {
  it("checks replicas: whole numbers from 0 to 1000", () => {
    expect(checkReplicas("0")).toEqual({ replicas: 0 });
    expect(checkReplicas("3")).toEqual({ replicas: 3 });
    for (const bad of ["", "-1", "1.5", "1001", "two"]) expect(checkReplicas(bad).error).toBeDefined();
  });

  it("polls only while a state changes by itself, and colours failure and success", () => {
    expect(isSettling("PENDING")).toBe(true);
    expect(isSettling("RUNNING")).toBe(false);
    expect(isSettling("FAILED")).toBe(false);
    expect(stateTone("RUNNING")).toBe("ok");
    expect(stateTone("FAILED")).toBe("bad");
    expect(stateTone("PENDING")).toBe("");
  });

  it("orders the history newest first without changing the API's list", () => {
    const events = [
      { at: "2026-01-01T00:00:00Z", from: null, to: "PENDING", reason: "deployed", actor: "u" },
      { at: "2026-01-01T00:00:05Z", from: "PENDING", to: "FAILED", reason: "no adapter", actor: "reconciler" },
    ];
    expect(timeline(events).map((e) => e.to)).toEqual(["FAILED", "PENDING"]);
    expect(events[0]?.to).toBe("PENDING");
  });

  it("describes resources and lists", () => {
    expect(formatResources({ gpus: 1, gpu_memory_gb: 0, cpus: 2, memory_gb: 8 })).toBe("1 GPU, 2 CPUs, 8 GB memory");
    expect(formatResources({ gpus: 0, gpu_memory_gb: 0, cpus: 0, memory_gb: 0 })).toBe("none requested");
    expect(splitList(" a, b\nc ,")).toEqual(["a", "b", "c"]);
    expect(parseObject("").value).toEqual({});
  });
});

describe("a followed log", () => {
  it("joins chunks split mid-line, keeps the newest lines, shows the unfinished one", () => {
    let log = appendLog({ lines: [], partial: "" }, "one\ntw");
    expect(log).toEqual({ lines: ["one"], partial: "tw" });
    log = appendLog(log, "o\nthree\nfo", 2);
    expect(log).toEqual({ lines: ["two", "three"], partial: "fo" });
    expect(logText(log)).toBe("two\nthree\nfo");
    expect(logText(appendLog(log, "ur\n", 2))).toBe("three\nfour");
  });
});
