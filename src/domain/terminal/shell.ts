import { createHash } from "node:crypto";
import ssh2 from "ssh2";

export interface ShellTarget {
  host: string;
  port: number;
  username: string;
}

export interface ShellSize {
  cols: number;
  rows: number;
}

/** An interactive shell on an instance: a PTY over SSH. */
export interface Shell {
  /** The SSH host key's SHA-256 (OpenSSH's `SHA256:…` form), as the instance presented it. */
  readonly hostKey: string;
  write(data: string | Buffer): void;
  resize(size: ShellSize): void;
  end(): void;
}

export interface ShellEvents {
  data(chunk: Buffer): void;
  /** The shell ended (exit, the SSH connection dropped); `reason` is for the customer. */
  closed(reason: string): void;
}

const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Opens a login shell on the instance as its SSH user, authenticated by the server's terminal key, with a PTY of
 * `size`. Resolves once the shell is up; rejects with a sentence when the instance cannot be reached or refuses the
 * key (an instance launched before the terminal key existed does not hold it).
 */
export function openShell(target: ShellTarget, privateKey: string, size: ShellSize, events: ShellEvents) {
  return new Promise<Shell>((resolve, reject) => {
    const conn = new ssh2.Client();
    let hostKey = "";
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      conn.end();
      reject(new Error(reason));
    };
    conn.on("error", (error: Error & { level?: string }) => {
      const where = `${target.username}@${target.host}:${target.port}`;
      if (error.level === "client-authentication") {
        fail(
          `${where} refused the web terminal's key (an instance launched before the web terminal existed does not hold it; stop and start, or relaunch it)`,
        );
      } else if (!settled) {
        fail(`cannot reach the instance's SSH server at ${where}: ${error.message}`);
      } else {
        events.closed(`the SSH connection failed: ${error.message}`);
      }
    });
    conn.on("close", () => {
      if (!settled) fail(`the instance's SSH server at ${target.host}:${target.port} closed the connection`);
      else events.closed("the SSH connection closed");
    });
    conn.on("ready", () => {
      conn.shell({ term: "xterm-256color", cols: size.cols, rows: size.rows }, (error, stream) => {
        if (error) return fail(`the instance refused a shell: ${error.message}`);
        settled = true;
        stream.on("data", (chunk: Buffer) => events.data(chunk));
        stream.stderr.on("data", (chunk: Buffer) => events.data(chunk));
        stream.on("close", () => {
          events.closed("the shell exited");
          conn.end();
        });
        resolve({
          hostKey,
          write: (data) => stream.write(data),
          resize: ({ cols, rows }) => stream.setWindow(rows, cols, 0, 0),
          end: () => {
            stream.end();
            conn.end();
          },
        });
      });
    });
    conn.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: 15_000,
      // Not pinned (a container makes its host key when it starts): recorded on the session for the audit trail.
      hostVerifier: (key: Buffer) => {
        hostKey = `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
        return true;
      },
    });
  });
}
