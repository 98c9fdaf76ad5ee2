import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";

/**
 * A stand-in for an instance's SSH server (the real one is the container's OpenSSH, test/agent/terminal.test.ts):
 * accepts only the public keys it is given, and runs a "shell" that answers `echo <words>` as sh would. What it
 * received is kept so a test can say the bytes reached the instance.
 */
export async function fakeSshd(authorized: string[]) {
  const allowed = authorized.map((line) => {
    const parsed = ssh2.utils.parseKey(line);
    if (parsed instanceof Error) throw parsed;
    return Array.isArray(parsed) ? parsed[0] : parsed;
  });
  const hostKey = ssh2.utils.generateKeyPairSync("ed25519").private;
  const accepted: string[] = [];
  const clients = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client));
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const key = allowed.find((k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
      if (!key) return ctx.reject(["publickey"]);
      // Without a signature the client only asks whether the key would do; the login is the signed attempt.
      if (!ctx.signature) return ctx.accept();
      if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject();
      accepted.push(`${ctx.username} ${key.comment}`);
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        session.on("pty", (ok) => ok?.());
        session.on("window-change", (ok) => ok?.());
        session.on("shell", (ok) => {
          const stream = ok();
          let line = "";
          stream.write("$ ");
          stream.on("data", (data: Buffer) => {
            for (const ch of data.toString()) {
              if (ch === "\r") {
                stream.write("\r\n");
                const echo = /^echo (.*)$/.exec(line);
                if (echo) stream.write(`${echo[1]}\r\n`);
                if (line === "exit") return stream.close();
                line = "";
                stream.write("$ ");
              } else {
                line += ch;
                stream.write(ch);
              }
            }
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** `<user> <key comment>` for each login it accepted. */
    accepted,
    async close() {
      for (const c of clients) c.end();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
