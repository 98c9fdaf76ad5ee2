import type { Executor } from "../../db/client.js";
import { auditLog } from "../../db/schema/index.js";
import { isOperator, type Principal } from "../identity/principal.js";

export const actorKinds = ["operator", "tenant", "node", "system", "anonymous"] as const;
export type ActorKind = (typeof actorKinds)[number];

/** Who made a write: computed once per request (`auditActor(c)`), or `systemActor` outside one. */
export interface Actor {
  kind: ActorKind;
  /** The API key or console session presented; null for the system and anonymous callers. */
  keyId: string | null;
  /** The caller's own tenant; null for an operator, the system or an anonymous caller. */
  tenantId: number | null;
  /** The request's X-Request-Id, so an entry can be joined to the request's log line. */
  requestId: string | null;
}

export function actorOf(p: Principal | undefined, requestId: string | null = null): Actor {
  if (!p) return { kind: "anonymous", keyId: null, tenantId: null, requestId };
  const kind: ActorKind = p.nodeId !== null ? "node" : isOperator(p) ? "operator" : "tenant";
  return { kind, keyId: p.keyId, tenantId: p.tenantId, requestId };
}

/** Writes made by the server itself (start-up, `gpuplane admin-key` on its machine, a background loop). */
export const systemActor: Actor = { kind: "system", keyId: null, tenantId: null, requestId: null };

/** A JSON-able snapshot of the safe fields of what changed. */
export type Snapshot = Record<string, unknown>;

export interface AuditEntry {
  /** `<area>.<verb>`: `api_key.create`, `tenant.update`, `node.cordon`, … */
  action: string;
  /** `<kind>:<id>` of what was written: `tenant:4`, `node:7`, `instance_type:GPU.H100.1x`. */
  target: string;
  /** The tenant the write concerns; defaults to the actor's own. Null for fleet- and catalog-wide writes. */
  tenantId?: number | null;
  before?: Snapshot | null;
  after?: Snapshot | null;
}

/**
 * Field names that hold secrets. Call sites pass views of safe fields; this is the second line: such a field never
 * reaches the audit trail, however a snapshot was built.
 */
const SECRET_FIELD = /pass(word)?|hash|secret|token|credential|private|^key$|api_?key$|signing|authorization/i;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object" || depth > 6) return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELD.test(k) || v === undefined) continue;
    out[k] = redact(v, depth + 1);
  }
  return out;
}

/**
 * Appends one audit entry in the caller's transaction: the write and its record commit or roll back together, so a
 * failed write leaves no entry and a recorded write cannot be lost. Call it with the `tx` the write used.
 */
export async function audit(tx: Executor, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    tenantId: entry.tenantId !== undefined ? entry.tenantId : actor.tenantId,
    actorKind: actor.kind,
    actorKeyId: actor.keyId,
    requestId: actor.requestId,
    action: entry.action,
    target: entry.target,
    before: entry.before ? redact(entry.before) : null,
    after: entry.after ? redact(entry.after) : null,
  });
}

/**
 * An update's entry fields: the snapshot keys whose values differ, before and after (an update that changed nothing
 * gives two empty objects, still recorded: someone asked for it).
 */
export function changes(before: Snapshot, after: Snapshot): { before: Snapshot; after: Snapshot } {
  const out = { before: {} as Snapshot, after: {} as Snapshot };
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(redact(before[k])) === JSON.stringify(redact(after[k]))) continue;
    out.before[k] = before[k] ?? null;
    out.after[k] = after[k] ?? null;
  }
  return out;
}

/** A row as an audit snapshot: snake_case keys (as the API names them), `omit` left out; secrets are redacted anyway. */
export function snapshot(row: object, omit: string[] = []): Snapshot {
  const out: Snapshot = {};
  for (const [k, v] of Object.entries(row)) {
    if (omit.includes(k)) continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
  return out;
}
