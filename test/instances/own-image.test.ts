import { expect, it } from "vitest";
import { events, instances, launchTemplates } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "./fixtures.js";

const SECRET = "s3cr3t-value-that-must-never-leave-the-server";

describeEachDb(
  "own images, env, ports and launch templates",
  (h) => {
    const create = (key: string, sshKeyId: string, extra: Record<string, unknown>) =>
      h().post("/api/v1/instances", { planId: "GPU.H100.1x", sshKeyId, ...extra }, key);

    it("refuses an image from a registry the operator does not allow, naming it and the allowed list", async () => {
      const { key, sshKeyId } = await customer(h());
      const res = await create(key, sshKeyId, { image: "evil.example.com/miner:latest" });
      expect(res.status).toBe(400);
      expect(res.body.error).toContain("evil.example.com");
      expect(res.body.error).toContain("docker.io, ghcr.io, nvcr.io, quay.io");
      const bad = await create(key, sshKeyId, { image: "Not An Image!" });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/not an image reference/);
      expect(await h().ctx.db.select().from(instances)).toHaveLength(0);
    });

    it("launches an own image with env, command, disk and ports; a secret value is never returned", async () => {
      const { key, sshKeyId } = await customer(h());
      const res = await create(key, sshKeyId, {
        image: "ghcr.io/acme/server:1.0",
        env: [
          { name: "GREETING", value: "hello" },
          { name: "API_TOKEN", value: SECRET, secret: true },
        ],
        command: ["python3", "-m", "http.server", "8888"],
        diskGb: 20,
        ports: [{ port: 8888, protocol: "http" }, { port: 6006 }],
      });
      expect(res.status).toBe(201);
      const inst = res.body.data;
      expect(inst.image).toBe("ghcr.io/acme/server:1.0");
      expect(inst.env).toEqual([
        { name: "GREETING", value: "hello", secret: false },
        { name: "API_TOKEN", value: null, secret: true },
      ]);
      expect(inst.command).toEqual(["python3", "-m", "http.server", "8888"]);
      expect(inst.diskGb).toBe(20);
      expect(inst.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`)).toEqual([
        "8888/http",
        "6006/http",
      ]);
      await syncStatus(h());
      const answers = [
        res.text,
        (await h().get(`/api/v1/instances/${inst.id}`, key)).text,
        (await h().get("/api/v1/instances", key)).text,
        (await h().get(`/api/v1/deployments/${inst.id}`, key)).text,
        (await h().get(`/api/v1/instances/${inst.id}/events`, key)).text,
        (await h().get("/api/v1/events", key)).text,
      ];
      for (const text of answers) expect(text).not.toContain(SECRET);
      // Events are what webhooks deliver: the payloads never carry it either.
      expect(JSON.stringify(await h().ctx.db.select().from(events))).not.toContain(SECRET);
      // Stored, so the container gets it.
      const [row] = await h().ctx.db.select().from(instances);
      expect(row.env.find((v) => v.name === "API_TOKEN")?.value).toBe(SECRET);
    });

    it("refuses a disk larger than the plan's, port 22 and reserved env names", async () => {
      const { key, sshKeyId } = await customer(h());
      const base = { image: "docker.io/library/python:3.12" };
      const disk = await create(key, sshKeyId, { ...base, diskGb: 99_999 });
      expect(disk.status).toBe(400);
      expect(disk.body.error).toMatch(/disk/);
      const ssh = await create(key, sshKeyId, { ...base, ports: [{ port: 22, protocol: "tcp" }] });
      expect(ssh.status).toBe(400);
      expect(ssh.body.error).toMatch(/port 22/);
      const env = await create(key, sshKeyId, { ...base, env: [{ name: "PUBLIC_KEY", value: "x" }] });
      expect(env.status).toBe(400);
      expect(env.body.error).toMatch(/PUBLIC_KEY/);
    });

    it("saves launch templates per tenant, masks secrets, keeps them on update, and launches from them", async () => {
      const a = await customer(h());
      const b = await customer(h());
      const made = await h().post(
        "/api/v1/launch-templates",
        {
          name: "jupyter",
          image: "quay.io/jupyter/base-notebook:latest",
          instance_type: "GPU.H100.1x",
          env: [{ name: "TOKEN", value: SECRET, secret: true }],
          ports: [{ port: 8888, protocol: "http" }],
        },
        a.key,
      );
      expect(made.status).toBe(201);
      expect(made.text).not.toContain(SECRET);
      const id = made.body.data.id;
      expect(made.body.data.env).toEqual([{ name: "TOKEN", value: null, secret: true }]);
      expect((await h().post("/api/v1/launch-templates", { name: "jupyter", image: "python:3" }, a.key)).status).toBe(
        409,
      );
      // Another tenant: 404 on every verb, and not listed.
      expect((await h().get(`/api/v1/launch-templates/${id}`, b.key)).status).toBe(404);
      expect((await h().patch(`/api/v1/launch-templates/${id}`, { name: "x" }, b.key)).status).toBe(404);
      expect((await h().del(`/api/v1/launch-templates/${id}`, b.key)).status).toBe(404);
      expect((await h().get("/api/v1/launch-templates", b.key)).body.data).toEqual([]);
      expect((await create(b.key, b.sshKeyId, { launchTemplateId: id })).status).toBe(400);
      // A secret sent back without its value keeps the stored one.
      const patched = await h().patch(
        `/api/v1/launch-templates/${id}`,
        {
          env: [
            { name: "TOKEN", secret: true },
            { name: "MODE", value: "lab" },
          ],
        },
        a.key,
      );
      expect(patched.status).toBe(200);
      const [stored] = await h().ctx.db.select().from(launchTemplates);
      expect(stored.env).toEqual([
        { name: "TOKEN", value: SECRET, secret: true },
        { name: "MODE", value: "lab", secret: false },
      ]);
      const launched = await h().post("/api/v1/instances", { sshKeyId: a.sshKeyId, launchTemplateId: id }, a.key);
      expect(launched.status).toBe(201);
      expect(launched.text).not.toContain(SECRET);
      expect(launched.body.data.image).toBe("quay.io/jupyter/base-notebook:latest");
      expect(launched.body.data.env.map((v: { name: string }) => v.name)).toEqual(["TOKEN", "MODE"]);
      expect((await h().get("/api/v1/launch-templates", a.key)).body.data).toHaveLength(1);
      expect((await h().del(`/api/v1/launch-templates/${id}`, a.key)).status).toBe(200);
      expect((await h().get(`/api/v1/launch-templates/${id}`, a.key)).status).toBe(404);
    });
  },
  { env: { GPUPLANE_IMAGE_REGISTRIES: "docker.io,ghcr.io,nvcr.io,quay.io" }, manualClock: true },
);
