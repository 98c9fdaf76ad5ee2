export * from "./billing.js";
export * from "./catalog.js";
export * from "./customer.js";
export * from "./fleet.js";
export * from "./identity.js";
export * from "./jobs.js";
export * from "./terminal.js";
export * from "./upstreams.js";
