// Creates a PGlite cluster in the folder given, then exits. The server runs this in a child process on first
// start: initdb grows PGlite's WebAssembly memory to several hundred MiB, which a process never gives back, so doing
// it here keeps the server's own resident memory at what reopening an existing folder costs.
import { PGlite } from "@electric-sql/pglite";

const [dir, ...startParams] = process.argv.slice(2);
const db = new PGlite(dir, { startParams: [...PGlite.defaultStartParams, ...startParams] });
await db.waitReady;
await db.close();
