import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { inServerBundle } from "../lib/bundle.js";
import type { Router } from "./env.js";

const webDist = resolve(dirname(fileURLToPath(import.meta.url)), "../../web/dist");
const assetsDir = join(webDist, "assets") + sep;
const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/**
 * Serves the built web console (web/dist) at `/`. A path without an extension is a client-side route and gets
 * index.html; a missing file with one (a stale /assets/…js after a rebuild) is a 404, never HTML in its place.
 */
export function serveConsole(app: Router) {
  if (inServerBundle) {
    // The device kit's server (scripts/build-device-kit.ts) carries no console: say so rather than look for one.
    app.get("/", (c) =>
      c.text("gpuplane server (device kit): the web console is not bundled; the API is at /api/v1\n"),
    );
    return;
  }
  app.get("*", (c, next) => {
    const path = c.req.path;
    if (path.startsWith("/api/") || !existsSync(webDist)) return next();
    const file = normalize(join(webDist, path));
    if (!file.startsWith(webDist + sep) && file !== webDist) return next();
    const index = join(webDist, "index.html");
    const target = isFile(file) ? file : extname(file) ? undefined : index;
    if (!target || !isFile(target)) return next();
    c.header("content-type", types[extname(target)] ?? "application/octet-stream");
    c.header("x-content-type-options", "nosniff");
    // Hashed assets never change; index.html must be re-read so a rebuilt console is picked up at once.
    c.header("cache-control", target.startsWith(assetsDir) ? "public, max-age=31536000, immutable" : "no-cache");
    if (target === index) c.header("x-frame-options", "DENY");
    return c.body(readFileSync(target));
  });
}
