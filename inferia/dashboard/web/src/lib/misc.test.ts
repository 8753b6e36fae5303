import { describe, expect, it } from "vitest";
import { cursorOf, firstPage, goTo } from "./cursors";
import { matches, paginate } from "./paginate";
import { dataOf, sseData } from "./sse";

describe("paging", () => {
  it("slices a huge list into pages and clamps the page number", () => {
    const items = Array.from({ length: 1001 }, (_, i) => i);
    const last = paginate(items, 999, 25);
    expect(last).toMatchObject({ page: 41, pageCount: 41, total: 1001 });
    expect(last.items).toEqual([1000]);
    expect(paginate([], 3).pageCount).toBe(1);
  });

  it("walks cursors forward and back", () => {
    let trail = firstPage();
    trail = goTo(trail, 2, "c2");
    trail = goTo(trail, 3, "c3");
    expect(cursorOf(trail)).toBe("c3");
    trail = goTo(trail, 1, null);
    expect(cursorOf(trail)).toBeNull();
    expect(goTo(trail, 2, null).page).toBe(2);
    expect(goTo(firstPage(), 2, null).page).toBe(1);
  });

  it("filters case-insensitively", () => {
    expect(matches("SCRIPT", "<script>x</script>")).toBe(true);
    expect(matches("", null)).toBe(true);
    expect(matches("zz", "a", null)).toBe(false);
  });
});

describe("server-sent events", () => {
  it("yields data payloads split across reads", async () => {
    const encoder = new TextEncoder();
    const parts = ['data: {"a":1}\n', '\ndata: {"b"', ':2}\n\n: comment\n\ndata: [DONE]\n\n'];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(encoder.encode(part));
        controller.close();
      },
    });
    const seen: string[] = [];
    for await (const data of sseData(stream)) seen.push(data);
    expect(seen).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    expect(dataOf(": keep-alive")).toBeNull();
  });
});
