import { and, desc, eq, gt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instanceLogs } from "../../db/schema/index.js";
import type { InstanceRow } from "../instances/row.js";

/**
 * A fleet instance's container output, as its node agent streams it (packages/agent/src/logs.ts): a window of the
 * last lines per instance, the oldest dropped, never an archive. The agent keys each line by the runtime's timestamp
 * (microseconds) and its place among lines of the same microsecond: a batch sent again, or by a replica that also got
 * it, stores nothing twice.
 */
export const LOG_WINDOW = {
  /** Lines kept per instance. */
  lines: 2000,
  /** Bytes of text kept per instance (whichever bound is reached first). */
  bytes: 512 * 1024,
  /** A longer line is cut (the agent cuts first; this guards the table). */
  lineBytes: 4096,
};

export interface LogLineIn {
  /** RFC 3339 with up to nanoseconds, as the runtime printed it. */
  at: string;
  seq: number;
  line: string;
}

export interface LogLineOut {
  at: string;
  line: string;
}

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/i;

/** RFC 3339 → microseconds since the epoch, keeping the digits a Date would drop. Null when it is not one. */
export function isoToMicros(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const seconds = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(seconds)) return null;
  return seconds * 1000 + Number((m[2] ?? "").padEnd(6, "0").slice(0, 6));
}

export function microsToIso(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;
}

/** Cuts a line to at most `max` bytes of UTF-8 (never in the middle of a character), saying so. */
export function cutLine(line: string, max = LOG_WINDOW.lineBytes): string {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= max) return line;
  const note = ` … [${bytes.length - max} bytes cut]`;
  return `${bytes
    .subarray(0, max)
    .toString("utf8")
    .replace(/\uFFFD$/, "")}${note}`;
}

/**
 * Stores a batch for an instance the caller has checked is on the reporting node, then drops what falls out of the
 * window. Returns how many lines were new.
 */
export async function ingestInstanceLogs(ctx: AppContext, instanceId: string, lines: LogLineIn[]): Promise<number> {
  const rows = lines.map((l) => ({ instanceId, atUs: isoToMicros(l.at)!, seq: l.seq, line: cutLine(l.line) }));
  if (!rows.length) return 0;
  return ctx.db.transaction(async (tx) => {
    const added = await tx
      .insert(instanceLogs)
      .values(rows)
      .onConflictDoNothing({ target: [instanceLogs.instanceId, instanceLogs.atUs, instanceLogs.seq] })
      .returning({ id: instanceLogs.id });
    if (added.length) {
      // The newest line that no longer fits (by count or by bytes, counting from the newest) and all before it go.
      await tx.execute(sql`
        delete from instance_logs
        where instance_id = ${instanceId} and (at_us, seq) <= (
          select at_us, seq from (
            select at_us, seq, row_number() over w as n, sum(octet_length(line)) over w as bytes
            from instance_logs where instance_id = ${instanceId}
            window w as (order by at_us desc, seq desc)
          ) ranked
          where n > ${LOG_WINDOW.lines} or bytes > ${LOG_WINDOW.bytes}
          order by at_us desc, seq desc
          limit 1
        )`);
    }
    return added.length;
  });
}

/** Why an instance has no container output here, or null when its node agent streams it. */
export function logsUnavailable(instance: InstanceRow): string | null {
  if (instance.provider === "fleet") return null;
  if (instance.provider === "simulator") return "a simulated instance runs no container, so it prints no logs";
  return (
    `container logs are not available from ${instance.provider}: its API offers none; ` +
    "read them on the machine (gpuplane ssh)"
  );
}

/** The last `tail` lines (oldest first), only those printed after `sinceUs` when given. */
export async function readInstanceLogs(
  ctx: AppContext,
  instanceId: string,
  query: { tail: number; sinceUs?: number },
): Promise<LogLineOut[]> {
  const rows = await ctx.db
    .select({ atUs: instanceLogs.atUs, line: instanceLogs.line })
    .from(instanceLogs)
    .where(
      and(
        eq(instanceLogs.instanceId, instanceId),
        query.sinceUs === undefined ? undefined : gt(instanceLogs.atUs, query.sinceUs),
      ),
    )
    .orderBy(desc(instanceLogs.atUs), desc(instanceLogs.seq))
    .limit(query.tail);
  return rows.reverse().map((r) => ({ at: microsToIso(Number(r.atUs)), line: r.line }));
}
