import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePublicKey } from "../../src/domain/ssh-keys/parse.js";
import { describeEachDb } from "../helpers/harness.js";
import { sshPublicKey } from "../instances/fixtures.js";

function sshKeygenFingerprint(line: string): string | null {
  try {
    const dir = mkdtempSync(join(tmpdir(), "gp-ssh-"));
    writeFileSync(join(dir, "k.pub"), `${line}\n`);
    return execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1];
  } catch {
    return null; // no ssh-keygen here
  }
}

describe("OpenSSH public key parsing", () => {
  it("reads type, bits and the same SHA256 fingerprint as ssh-keygen -lf", () => {
    for (const [kind, bits, expected] of [
      ["ed25519", 0, 256],
      ["ecdsa", 0, 256],
      ["rsa", 3072, 3072],
    ] as const) {
      const line = sshPublicKey(kind, bits || 2048);
      const parsed = parsePublicKey(line);
      expect(parsed.bits).toBe(expected);
      expect(parsed.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      const reference = sshKeygenFingerprint(line);
      if (reference) expect(parsed.fingerprint).toBe(reference);
    }
  });

  it("refuses private keys, garbage, truncated data, mismatched types and short RSA keys", () => {
    expect(() =>
      parsePublicKey(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
      ),
    ).toThrow(/private key/);
    expect(() => parsePublicKey("hello world")).toThrow(/not supported/);
    expect(() => parsePublicKey("ssh-ed25519 !!!notbase64")).toThrow(/base64/);
    const good = sshPublicKey("ed25519").split(" ")[1];
    expect(() => parsePublicKey(`ssh-ed25519 ${good.slice(0, 40)}`)).toThrow(/truncated|base64/);
    expect(() => parsePublicKey(`ssh-rsa ${good}`)).toThrow(/is a 'ssh-ed25519' key/);
    expect(() => parsePublicKey(sshPublicKey("rsa", 1024))).toThrow(/at least 2048 bits; this one is 1024/);
    expect(() => parsePublicKey("ssh-dss AAAAB3NzaC1kc3M=")).toThrow(/DSA/);
  });
});

describeEachDb("ssh keys API", (h) => {
  it("uploads, lists, gets and deletes a key (seed 001 body)", async () => {
    const { key } = await h().signup();
    const line = sshPublicKey("ed25519", 0, "me@laptop");
    const created = await h().post("/api/v1/ssh-keys", { name: "my-laptop", public_key: line }, key);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      name: "my-laptop",
      key_type: "ssh-ed25519",
      bits: 256,
      public_key: line,
    });
    expect(created.body.data.fingerprint).toBe(parsePublicKey(line).fingerprint);
    const list = await h().get("/api/v1/ssh-keys", key);
    expect(list.body.data.map((k: any) => k.id)).toEqual([created.body.data.id]);
    expect(list.body.meta.total).toBe(1);
    expect((await h().get(`/api/v1/ssh-keys/${created.body.data.id}`, key)).status).toBe(200);
    expect((await h().del(`/api/v1/ssh-keys/${created.body.data.id}`, key)).status).toBe(200);
    expect((await h().get(`/api/v1/ssh-keys/${created.body.data.id}`, key)).status).toBe(404);
  });

  it("answers bad keys with a clear 400 and a duplicate with 409", async () => {
    const { key } = await h().signup();
    const priv = await h().post(
      "/api/v1/ssh-keys",
      { name: "x", public_key: "-----BEGIN RSA PRIVATE KEY-----\nMIIE" },
      key,
    );
    expect(priv.status).toBe(400);
    expect(priv.body.error).toContain("private key");
    const short = await h().post("/api/v1/ssh-keys", { name: "x", public_key: sshPublicKey("rsa", 1024) }, key);
    expect(short.status).toBe(400);
    expect(short.body.error).toContain("2048");
    expect((await h().post("/api/v1/ssh-keys", { name: "x", public_key: "ssh-ed25519 AAAA" }, key)).status).toBe(400);
    expect((await h().post("/api/v1/ssh-keys", { name: "x" }, key)).body.error).toBe("public_key is required");
    const line = sshPublicKey("rsa", 2048);
    expect((await h().post("/api/v1/ssh-keys", { name: "a", public_key: line }, key)).status).toBe(201);
    const again = await h().post(
      "/api/v1/ssh-keys",
      { name: "b", public_key: `${line.split(" ").slice(0, 2).join(" ")} other` },
      key,
    );
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
    // Another tenant may upload the same public key.
    const other = await h().signup();
    expect((await h().post("/api/v1/ssh-keys", { name: "a", public_key: line }, other.key)).status).toBe(201);
  });

  it("hides another tenant's keys (404)", async () => {
    const a = await h().signup();
    const b = await h().signup();
    const created = await h().post("/api/v1/ssh-keys", { name: "a", public_key: sshPublicKey() }, a.key);
    expect((await h().get(`/api/v1/ssh-keys/${created.body.data.id}`, b.key)).status).toBe(404);
    expect((await h().del(`/api/v1/ssh-keys/${created.body.data.id}`, b.key)).status).toBe(404);
    expect((await h().get("/api/v1/ssh-keys", b.key)).body.data).toEqual([]);
  });
});
