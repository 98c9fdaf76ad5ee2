import { z } from "@hono/zod-openapi";
import { MAX_ENV, MAX_PORTS } from "../../domain/instances/container.js";
import { badRequest } from "../../lib/errors.js";

/** What a customer sends for a container (instance create, launch templates) and what the API shows of it. */
export const EnvVarInput = z
  .object({
    name: z.string().min(1).max(128).openapi({ example: "MODEL" }),
    value: z
      .string()
      .max(32_768)
      .nullable()
      .optional()
      .openapi({ description: "Required, except a secret's on a template update (then the stored value is kept)" }),
    secret: z.boolean().optional().openapi({
      description: "Write-only: stored and passed to the container, never returned (the API shows value null)",
    }),
  })
  .strict();

export const PortInput = z
  .object({
    port: z.number().int().min(1).max(65535).openapi({ example: 8888 }),
    protocol: z.enum(["http", "tcp"]).default("http"),
  })
  .strict();

export const containerFields = {
  env: z.array(EnvVarInput).max(MAX_ENV).optional().openapi({ description: "Environment variables of the container" }),
  command: z
    .array(z.string().min(1).max(4096))
    .max(256)
    .optional()
    .openapi({
      description: "Start command (argv), run in the container beside SSH; its output is the container's log",
      example: ["python3", "-m", "http.server", "8888"],
    }),
  ports: z
    .array(PortInput)
    .max(MAX_PORTS)
    .optional()
    .openapi({ description: "Ports to expose: each is published and shown as a URL (http) or host:port (tcp)" }),
};

export const EnvVar = z
  .object({ name: z.string(), value: z.string().nullable(), secret: z.boolean() })
  .openapi("EnvVar", { description: "A secret's value is never returned: null" });

export const ExposedPort = z
  .object({
    port: z.number().int(),
    protocol: z.enum(["http", "tcp"]),
    host_port: z.number().int().nullable().openapi({ description: "Where it is published; null until running" }),
    address: z.string().nullable().openapi({ example: "100.64.1.2:41234" }),
    url: z
      .string()
      .nullable()
      .openapi({ description: "http ports: where to open it", example: "http://100.64.1.2:41234" }),
  })
  .openapi("ExposedPort");

/** Env as the API takes it for an instance: every value given. */
export function envInput(env: z.infer<typeof EnvVarInput>[] | undefined, field = "env") {
  return env?.map((v) => {
    if (v.value === undefined || v.value === null) throw badRequest(`${field}: ${v.name} needs a value`);
    return { name: v.name, value: v.value, secret: v.secret === true };
  });
}
