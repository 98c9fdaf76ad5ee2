import { connect } from "node:net";

/** True when an SSH server answers on host:port: it sends its "SSH-2.0-…" banner first, before any client byte. */
export function sshAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let seen = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1");
      if (seen.length >= 4) done(seen.startsWith("SSH-"));
    });
    socket.on("error", () => done(false));
    socket.on("end", () => done(false));
  });
}
