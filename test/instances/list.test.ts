import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "./fixtures.js";

describeEachDb("instance lists", (h) => {
  it("pages a customer's own instances newest first, leaving deleted ones out unless asked", async () => {
    const c = await customer(h());
    const other = await customer(h());
    const create = async (key: string, sshKeyId: string, name: string) => {
      const res = await h().post(
        "/api/v1/instances",
        { name, planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(res.status, res.text).toBe(201);
      return res.body.data.id as string;
    };
    const ids = [];
    for (const name of ["one", "two", "three", "four"]) ids.push(await create(c.key, c.sshKeyId, name));
    await create(other.key, other.sshKeyId, "not-yours");
    expect((await h().del(`/api/v1/instances/${ids[1]}`, c.key)).status).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h().get(`/api/v1/instances?limit=2${cursor ? `&cursor=${cursor}` : ""}`, c.key);
      expect(res.status).toBe(200);
      expect(res.body.meta.total).toBe(3);
      seen.push(...res.body.data.map((i: any) => i.id));
      cursor = res.body.meta.cursor;
      expect(res.body.meta.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual([ids[3], ids[2], ids[0]]);

    const all = await h().get("/api/v1/instances?include_deleted=true&limit=10", c.key);
    expect(all.body.meta.total).toBe(4);
    expect(all.body.data.map((i: any) => i.id)).toEqual([...ids].reverse());
    const deployments = await h().get("/api/v1/deployments?limit=10", c.key);
    expect(deployments.body.data.map((d: any) => d.id)).toEqual([ids[3], ids[2], ids[0]]);
    // Past the oldest: an empty page that still counts the list.
    const pastEnd = Buffer.from(JSON.stringify({ id: ids[0] })).toString("base64url");
    const empty = await h().get(`/api/v1/instances?limit=2&cursor=${pastEnd}`, c.key);
    expect(empty.body).toMatchObject({ data: [], meta: { total: 3, has_more: false, cursor: null } });
  });
});
