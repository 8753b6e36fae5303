/** The playground's calls to the OpenAI-compatible gateway (/v1), with an API key:
 * the gateway takes API keys, not session tokens. */

import { sseData } from "../lib/sse";
import { ApiError, errorFromResponse } from "./errors";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatResult {
  requestId: string | null;
  overheadMs: number | null;
  finishReason: string | null;
}

async function gatewayFetch(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw new ApiError("timeout", 0, "the request was stopped");
    throw new ApiError("network", 0, error instanceof Error ? error.message : "network error");
  }
  if (!response.ok) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: described by its status.
    }
    throw errorFromResponse(response.status, body, response.headers.get("retry-after"));
  }
  return response;
}

export async function listGatewayModels(base: string, key: string): Promise<string[]> {
  const response = await gatewayFetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as { data?: { id: string }[] };
  return (body.data ?? []).map((model) => model.id).sort();
}

/** One streamed chat completion; `onDelta` gets the text as it arrives. */
export async function streamChat(options: {
  base: string;
  key: string;
  model: string;
  messages: ChatMessage[];
  onDelta: (text: string) => void;
  signal?: AbortSignal;
}): Promise<ChatResult> {
  const response = await gatewayFetch(`${options.base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${options.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: options.model, messages: options.messages, stream: true }),
    signal: options.signal,
  });
  const overhead = response.headers.get("x-inferia-overhead-ms");
  const result: ChatResult = {
    requestId: response.headers.get("x-request-id"),
    overheadMs: overhead === null ? null : Number(overhead),
    finishReason: null,
  };
  if (!response.body) return result;
  for await (const data of sseData(response.body)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data) as {
      error?: { message?: string; code?: string };
      choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
    };
    if (chunk.error) {
      // A failure after the first byte arrives as an error event, not a status.
      throw new ApiError("http", 502, chunk.error.message ?? "the stream failed", chunk.error.code ?? null);
    }
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) options.onDelta(choice.delta.content);
    if (choice?.finish_reason) result.finishReason = choice.finish_reason;
  }
  return result;
}
