import { describe, expect, it } from "vitest";
import { ApiError, describeError, errorFromResponse } from "./errors";

describe("describeError", () => {
  it("puts every failure in words, never JSON", () => {
    expect(describeError(new ApiError("network", 0, "Failed to fetch"))).toMatch(/could not be reached/);
    expect(describeError(new ApiError("timeout", 0, "x"))).toMatch(/did not answer in time/);
    expect(describeError(errorFromResponse(403, { error: { message: "missing permission models:write" } }, null))).toBe(
      "You do not have permission to do this. Missing permission models:write.",
    );
    expect(describeError(errorFromResponse(404, { error: { message: "model not found" } }, null))).toMatch(/^Not found: Model not found\./);
    expect(describeError(errorFromResponse(502, "<html>bad gateway</html>", null))).toMatch(/server failed \(HTTP 502\)/);
    expect(describeError(errorFromResponse(422, { error: { message: "URL refused", param: "endpoints[0].base_url" } }, null))).toBe(
      "URL refused. (field: endpoints[0].base_url)",
    );
    expect(describeError(errorFromResponse(429, { error: { message: "rpm exceeded" } }, "2"))).toBe("Too many requests: Rpm exceeded. Try again in 2 s.");
  });

  it("describes a body that is not the envelope by its status", () => {
    expect(errorFromResponse(500, null, null).message).toBe("HTTP 500");
  });
});
