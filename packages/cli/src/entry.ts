/** What the bundle (dist/gpuplane.mjs) exports: the bins call `main` after choosing it over the TypeScript sources. */
export { findCommand, main, VERSION } from "./main.js";
