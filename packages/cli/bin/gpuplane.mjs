#!/usr/bin/env node
// The customer and operator CLI on its own (no server inside): TypeScript sources run through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
await main(process.argv.slice(2));
