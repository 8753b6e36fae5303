import { defineConfig } from "vitest/config";

// Browser tests, run by tests/dashboard/test_dashboard_e2e.py against a real
// `inferia serve` (INFERIA_E2E_* variables); the scenarios share one server, in order.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["verbose"],
  },
});
