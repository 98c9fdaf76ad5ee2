/** `ssh-keys add|list|rm`: the public keys installed on new instances. */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { collect, paginate, unwrap } from "@gpuplane/sdk";
import { table, when } from "../output.js";
import { type Command, str, UsageError } from "../spec.js";

export const sshKeyCommands: Command[] = [
  {
    path: ["ssh-keys", "add"],
    summary: "Upload a public key (default ~/.ssh/id_ed25519.pub)",
    args: "[path]",
    options: [{ name: "name", value: "NAME", help: "a name for it (default: the key's comment or file name)" }],
    async run(c, a) {
      const path = a.positionals[0] ?? join(c.env.HOME || homedir(), ".ssh", "id_ed25519.pub");
      let publicKey: string;
      try {
        publicKey = readFileSync(path, "utf8").trim();
      } catch (error) {
        throw new UsageError(
          `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      const comment = publicKey.split(/\s+/)[2];
      const name = str(a, "name") ?? comment ?? basename(path, ".pub");
      const key = await unwrap(c.api().POST("/api/v1/ssh-keys", { body: { name, public_key: publicKey } }));
      c.out.result(key, () => `added ${key.id} (${key.name}, ${key.fingerprint})`);
    },
  },
  {
    path: ["ssh-keys", "list"],
    summary: "Your SSH keys",
    async run(c) {
      const api = c.api();
      const keys = await collect(paginate((cursor) => api.GET("/api/v1/ssh-keys", { params: { query: { cursor } } })));
      c.out.result(keys, () =>
        table(keys, [
          ["ID", (k) => k.id],
          ["NAME", (k) => k.name],
          ["TYPE", (k) => k.key_type],
          ["FINGERPRINT", (k) => k.fingerprint],
          ["ADDED", (k) => when(k.created_at)],
        ]),
      );
    },
  },
  {
    path: ["ssh-keys", "rm"],
    summary: "Remove an SSH key (running instances keep it)",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      await c.api().DELETE("/api/v1/ssh-keys/{id}", { params: { path: { id } } });
      c.out.result({ id, deleted: true }, () => `removed ${id}`);
    },
  },
];
