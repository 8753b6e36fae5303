/** Reads an OpenAI-style server-sent event stream: the `data:` payloads, in order. */

export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary = buffer.search(/\r?\n\r?\n/);
    while (boundary >= 0) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
      const data = dataOf(event);
      if (data !== null) yield data;
      boundary = buffer.search(/\r?\n\r?\n/);
    }
  }
  const rest = dataOf(buffer);
  if (rest !== null) yield rest;
}

/** The joined `data:` lines of one event, or null when it has none. */
export function dataOf(event: string): string | null {
  const lines = event
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).replace(/^ /, ""));
  return lines.length > 0 ? lines.join("\n") : null;
}
