import { defineConfig } from "vitest/config";

// Unit tests: pure logic, no DOM, no server.
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
