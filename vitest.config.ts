import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/template-db.ts"],
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
