import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console is built into web/dist, which the server serves at `/` (src/http/static.ts).
// `npx vite --config web/vite.config.ts` runs it in development against a server on :8080.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, reportCompressedSize: false },
  server: { proxy: { "/api": "http://localhost:8080" } },
});
