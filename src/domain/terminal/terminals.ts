import { eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { apiKeys, instances, terminalSessions } from "../../db/schema/index.js";
import type { TerminalKeyPair } from "./keys.js";
import { openShell, type Shell, type ShellSize } from "./shell.js";
import { type ClaimedTicket, noShellReason } from "./tickets.js";

declare module "../../context.js" {
  interface Services {
    /** The web terminals this replica holds open, and the server's terminal key; filled by terminal/setup.ts. */
    terminal: Terminals;
  }
}

/** The browser end of a terminal: a WebSocket, as the route hands it over. */
export interface TerminalSocket {
  /** Terminal output (binary) or a status message (text, JSON). */
  send(data: Uint8Array | string): void;
  close(code: number, reason: string): void;
}

/** Close codes the console reads (4000–4999 are the application's own). */
export const closeCodes = {
  shellExited: 1000,
  browserLeft: 1001,
  instanceLeft: 4001,
  sessionEnded: 4003,
  idle: 4008,
  unreachable: 4010,
  serverStopping: 1012,
} as const;

/** A terminal with no keystroke for this long closes. */
export const IDLE_MS = 30 * 60_000;
/** No terminal stays open longer than this, whatever its key's expiry. */
export const MAX_OPEN_MS = 12 * 3_600_000;
/** How often the open terminals are checked against the database (instance running, key valid) and marked seen. */
const WATCH_MS = 2_000;
/** Keystrokes typed while the SSH connection is still being made, kept (bounded) and sent once the shell is up. */
const MAX_PENDING_BYTES = 64 * 1024;

interface Open {
  claim: ClaimedTicket;
  socket: TerminalSocket;
  shell?: Shell;
  pending: string[];
  pendingBytes: number;
  size: ShellSize;
  openedAt: number;
  lastInputAt: number;
  bytesOut: number;
  closed: boolean;
}

/**
 * The web terminals open on this replica: each a WebSocket from the browser joined to a PTY over SSH to the instance
 * (the server is the SSH client, with its own key). A terminal closes when the shell exits, the browser leaves, the
 * instance leaves `running` (at once on this replica through ctx.bus, within WATCH_MS from any other), the key or
 * console session it was opened with ends, or it idles. Opens and closes are logged and recorded, never what passed.
 */
export class Terminals {
  private open = new Map<string, Open>();
  private watch: NodeJS.Timeout | undefined;

  constructor(
    private ctx: AppContext,
    readonly keys: TerminalKeyPair,
  ) {}

  get count(): number {
    return this.open.size;
  }

  /** Joins a claimed ticket's socket to a new shell on the instance. */
  async attach(claim: ClaimedTicket, socket: TerminalSocket, size: ShellSize = { cols: 80, rows: 24 }) {
    const now = this.ctx.clock.now().getTime();
    const t: Open = {
      claim,
      socket,
      pending: [],
      pendingBytes: 0,
      size,
      openedAt: now,
      lastInputAt: now,
      bytesOut: 0,
      closed: false,
    };
    this.open.set(claim.sessionId, t);
    this.startWatching();
    const { instance } = claim;
    this.ctx.log.info(
      { terminal: claim.sessionId, tenant: claim.tenantId, instance: instance.id, key: claim.keyId },
      "terminal opening",
    );
    socket.send(status("connecting", `connecting to ${instance.sshUser ?? "root"}@${instance.ipAddress}…`));
    try {
      const shell = await openShell(
        { host: instance.ipAddress!, port: instance.sshPort!, username: instance.sshUser ?? "root" },
        this.keys.privateKey,
        t.size,
        {
          data: (chunk) => {
            if (t.closed) return;
            t.bytesOut += chunk.length;
            socket.send(chunk);
          },
          closed: (reason) => this.close(claim.sessionId, closeCodes.shellExited, reason),
        },
      );
      if (t.closed) return shell.end();
      t.shell = shell;
      for (const data of t.pending.splice(0)) shell.write(data);
      socket.send(status("connected", `connected to ${instance.name}`));
      void this.ctx.db
        .update(terminalSessions)
        .set({ hostKeySha256: shell.hostKey })
        .where(eq(terminalSessions.id, claim.sessionId))
        .catch(() => {});
    } catch (error) {
      this.close(claim.sessionId, closeCodes.unreachable, (error as Error).message);
    }
  }

  /** A frame from the browser: `{"type":"input","data":…}` or `{"type":"resize","cols":…,"rows":…}`. */
  message(sessionId: string, frame: string) {
    const t = this.open.get(sessionId);
    if (!t || t.closed) return;
    let parsed: { type?: unknown; data?: unknown; cols?: unknown; rows?: unknown };
    try {
      parsed = JSON.parse(frame);
    } catch {
      return;
    }
    if (parsed.type === "input" && typeof parsed.data === "string") {
      t.lastInputAt = this.ctx.clock.now().getTime();
      if (t.shell) t.shell.write(parsed.data);
      else if (t.pendingBytes + parsed.data.length <= MAX_PENDING_BYTES) {
        t.pending.push(parsed.data);
        t.pendingBytes += parsed.data.length;
      }
    } else if (parsed.type === "resize") {
      const cols = clamp(parsed.cols, 2, 500);
      const rows = clamp(parsed.rows, 2, 300);
      if (cols && rows) {
        t.size = { cols, rows };
        t.shell?.resize(t.size);
      }
    }
  }

  /** Closes one terminal (idempotent): the shell ends, the socket closes with `reason`, the record says why. */
  close(sessionId: string, code: number, reason: string) {
    const t = this.open.get(sessionId);
    if (!t || t.closed) return;
    t.closed = true;
    this.open.delete(sessionId);
    if (!this.open.size) this.stopWatching();
    t.shell?.end();
    if (code !== closeCodes.browserLeft) {
      try {
        t.socket.send(status("closed", reason));
        // A WebSocket close reason holds at most 123 bytes; the full sentence went in the status message.
        t.socket.close(code, Buffer.from(reason).subarray(0, 120).toString());
      } catch {
        // The browser is already gone.
      }
    }
    const now = this.ctx.clock.now();
    const { claim } = t;
    this.ctx.log.info(
      {
        terminal: sessionId,
        tenant: claim.tenantId,
        instance: claim.instance.id,
        key: claim.keyId,
        reason,
        seconds: Math.round((now.getTime() - t.openedAt) / 1000),
        bytes_out: t.bytesOut,
      },
      "terminal closed",
    );
    // Not awaited: a close may come from inside another area's transaction (an instance's transition on ctx.bus).
    void this.ctx.db
      .update(terminalSessions)
      .set({ closedAt: now, closeReason: reason.slice(0, 500) })
      .where(eq(terminalSessions.id, sessionId))
      .catch((error) => this.ctx.log.warn({ err: error, terminal: sessionId }, "terminal close not recorded"));
  }

  /** Every terminal of an instance that left `running` (called on its transition). */
  closeInstance(instanceId: string, reason: string) {
    for (const [id, t] of this.open) {
      if (t.claim.instance.id === instanceId) this.close(id, closeCodes.instanceLeft, reason);
    }
  }

  /** The server is shutting down: every terminal closes with a reason the console shows. */
  closeAll(reason = "the server is restarting; open the terminal again") {
    for (const id of [...this.open.keys()]) this.close(id, closeCodes.serverStopping, reason);
  }

  /**
   * One pass over this replica's open terminals: closes those whose instance left `running` (on any replica), whose
   * key or session ended, or that idled or lived too long; marks the others seen (their tenant's open count).
   */
  async check() {
    const ids = [...this.open.keys()];
    if (!ids.length) return;
    const now = this.ctx.clock.now();
    const rows = await this.ctx.db
      .select({
        id: terminalSessions.id,
        instance: instances,
        revokedAt: apiKeys.revokedAt,
        keyExpiresAt: apiKeys.expiresAt,
      })
      .from(terminalSessions)
      .leftJoin(instances, eq(instances.id, terminalSessions.instanceId))
      .leftJoin(apiKeys, eq(apiKeys.id, terminalSessions.keyId))
      .where(inArray(terminalSessions.id, ids));
    const seen: string[] = [];
    for (const row of rows) {
      const t = this.open.get(row.id);
      if (!t) continue;
      const why = row.instance ? noShellReason(row.instance) : "the instance was removed";
      if (why) this.close(row.id, closeCodes.instanceLeft, why);
      else if (row.revokedAt || (row.keyExpiresAt && row.keyExpiresAt <= now)) {
        this.close(
          row.id,
          closeCodes.sessionEnded,
          "the API key or console session this terminal was opened with ended",
        );
      } else if (now.getTime() - t.lastInputAt > IDLE_MS) {
        this.close(row.id, closeCodes.idle, `closed after ${IDLE_MS / 60_000} minutes without a keystroke`);
      } else if (now.getTime() - t.openedAt > MAX_OPEN_MS) {
        this.close(row.id, closeCodes.idle, `closed after ${MAX_OPEN_MS / 3_600_000} hours open; open it again`);
      } else seen.push(row.id);
    }
    if (seen.length) {
      await this.ctx.db.update(terminalSessions).set({ seenAt: now }).where(inArray(terminalSessions.id, seen));
    }
  }

  private startWatching() {
    if (this.watch) return;
    this.watch = setInterval(() => {
      this.check().catch((error) => this.ctx.log.warn({ err: error }, "terminal check failed"));
    }, WATCH_MS);
    this.watch.unref();
  }

  private stopWatching() {
    clearInterval(this.watch);
    this.watch = undefined;
  }
}

const status = (state: string, message: string) => JSON.stringify({ type: "status", state, message });

function clamp(value: unknown, min: number, max: number): number | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return Math.min(max, Math.max(min, Math.floor(value)));
}
