import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { modelMatches, modelPattern } from "../../src/domain/gpu-model.js";
import { type PlanJob, type PlanPool, planPass, type QueueWeights, queueOrder } from "../../src/domain/jobs/plan.js";

const pool = (nodeId: number, free: number, total = 8): PlanPool => ({
  nodeId,
  clusterId: 1,
  model: "NVIDIA H100 80GB HBM3",
  total,
  free: Array.from({ length: free }, (_, i) => ({ id: nodeId * 100 + i, index: i })),
  releases: [],
});
const job = (id: number, gpuCount: number, estimateMin: number | null = 30): PlanJob => ({
  id,
  clusterId: 1,
  tenantId: null,
  gpuCount,
  gpuType: null,
  estimateMs: estimateMin === null ? null : estimateMin * 60_000,
});

/**
 * Simulates rounds in which one small job ends and two arrive, returning the round the big job started. With
 * `ordered` the queue goes through queueOrder (the production order: the small jobs are shorter, so fresh ones
 * rank ahead of the big job until it has waited half its estimate more than they).
 */
function starvationRounds(maxReservations: number, ordered = false, weights?: QueueWeights, horizon = 120): number {
  const pools = [pool(1, 8), pool(2, 8)];
  let now = 0;
  let nextId = 100;
  const running: { id: number; pool: PlanPool; gpus: any[]; end: number }[] = [];
  const at = (j: PlanJob): PlanJob => ({ ...j, priority: 5, submittedAt: now });
  let queue: PlanJob[] = Array.from({ length: 16 }, () => at(job(nextId++, 1)));
  const big = { ...job(1, 8, 60), priority: 5, submittedAt: 60_000 };
  for (let round = 0; round < horizon; round++) {
    const list = round === 0 ? queue : [big, ...queue];
    const plan = planPass(pools, ordered ? queueOrder(list, now, weights) : list, new Map(), { now, maxReservations });
    for (const p of plan.placements) {
      if (p.job.id === big.id) return round;
      running.push({ id: p.job.id, pool: p.pool, gpus: p.gpus, end: now + 30 * 60_000 });
    }
    const placed = new Set(plan.placements.map((p) => p.job.id));
    queue = queue.filter((j) => !placed.has(j.id));
    now += 60_000;
    const done = running.shift()!;
    done.pool.free.push(...done.gpus);
    done.pool.releases = done.pool.releases.filter((r) => r.jobId !== done.id);
    queue.push(at(job(nextId++, 1)), at(job(nextId++, 1)));
  }
  return -1;
}

describe("planPass (pure)", () => {
  it("matches a GPU type as a word", () => {
    expect(modelMatches("H100", "NVIDIA H100 80GB HBM3")).toBe(true);
    expect(modelMatches("h100", "NVIDIA H100-SXM5")).toBe(true);
    expect(modelMatches("H10", "NVIDIA H100 80GB HBM3")).toBe(false);
    expect(modelMatches(null, "anything")).toBe(true);
    expect(modelMatches("T4|P100", "Tesla P100-PCIE-16GB")).toBe(true);
    expect(modelMatches("T4|P100", "NVIDIA A10")).toBe(false);
  });

  it("the SQL pattern matches exactly what the code matches, alternatives included", () => {
    const word = fc.constantFrom("H100", "h100", "A100", "T4", "P100", "H10", "A10", "V100", "4090");
    const name = fc
      .array(fc.constantFrom("NVIDIA", "H100", "H1000", "A100", "A10", "T4", "-", " ", "80GB", "SXM5", "P100"), {
        maxLength: 6,
      })
      .map((parts) => parts.join(""));
    const type = fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join("|"));
    fc.assert(
      fc.property(type, name, (t, model) => {
        expect(new RegExp(modelPattern(t)).test(model.toUpperCase())).toBe(modelMatches(t, model));
      }),
    );
  });

  it("best fit keeps the whole node free", () => {
    const pools = [pool(1, 8), pool(2, 3)];
    const plan = planPass(pools, [job(1, 2), job(2, 8)], new Map(), { now: 0 });
    expect(plan.placements.map((p) => [p.job.id, p.pool.nodeId])).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it("the reservation is what saves the large job from starvation", () => {
    expect(starvationRounds(0)).toBe(-1); // no reservation: starved for all 120 rounds
    const withReservation = starvationRounds(8);
    expect(withReservation).toBeGreaterThan(0);
    expect(withReservation).toBeLessThanOrEqual(9);
  });

  it("a big job is not starved by a stream of shorter small ones under the production queue order", () => {
    // The queue only grows (two arrive, one ends each minute). The fresh small jobs (15 min of estimate weight)
    // rank ahead of the big one at first; the small jobs pass their guard (the queue's mean wait, at least 10
    // min) and go ahead of it, and take every GPU its node frees. Its own guard is 8 × theirs, at most 8 × 25
    // min = 200 min: once it has waited that long it heads the queue, reserves, and its node drains (30 min
    // jobs). Bounded, and later than in age order (round 8) or with a guard of √8 × theirs (which the replay's
    // p99 pays for: docs/scheduler.md).
    const rounds = starvationRounds(8, true, undefined, 400);
    expect(rounds).toBeGreaterThan(45);
    expect(rounds).toBeLessThanOrEqual(200 + 30);
    expect(starvationRounds(8, true, { guardSizeExp: 0.5 }, 400)).toBeLessThanOrEqual(45);
    expect(starvationRounds(0, true, undefined, 400)).toBe(-1); // and it is the reservation that saves it
  });

  it("backfills a reserved node only with jobs that end before the reservation starts", () => {
    const p = pool(1, 4);
    p.releases = [{ end: 60 * 60_000, gpus: 4 }];
    const plan = planPass([p], [job(1, 8, 60), job(2, 1, 30), job(3, 1, 120), job(4, 1, null)], new Map(), {
      now: 0,
    });
    expect(plan.reservations.map((r) => [r.jobId, r.start])).toEqual([[1, 60 * 60_000]]);
    expect(plan.placements.map((x) => x.job.id)).toEqual([2]);
    expect(plan.placements[0].backfill).toBe(true);
  });
});

describe("a reason for every waiting job", () => {
  it("names what each waiting job waits for: quota, GPU type, a reservation, fragmentation, priority, capacity", () => {
    const p = pool(1, 4);
    p.releases = [{ end: 60 * 60_000, gpus: 4 }];
    const jobs: PlanJob[] = [
      { ...job(1, 1), tenantId: 7 }, // over quota
      { ...job(2, 1), gpuType: "B200" }, // no such GPU in the cluster
      job(3, 8, 60), // waits for node 1's 4 busy GPUs: reserves the node
      job(4, 2, 120), // would fit the reserved node's free GPUs, but runs past the reservation
      job(5, 1, 30), // backfills the reserved node
    ];
    const plan = planPass([p], jobs, new Map([[7, { limit: 2, used: 2 }]]), { now: 0 });
    expect(plan.placements.map((x) => x.job.id)).toEqual([5]);
    expect(plan.blocked.get(1)).toBe("quota: tenant 7 uses 2 of 2 GPUs; this job needs 1 more");
    expect(plan.blocked.get(2)).toBe("no matching GPU type: cluster 1 has no 'B200' GPUs");
    expect(plan.blocked.get(3)).toBe("no capacity: waiting for 8 free GPUs on one node");
    expect(plan.blocked.get(4)).toMatch(/^reserved: the GPUs that would fit are held for job 3, ahead in the queue/);
  });

  it("every job the plan does not place has a reason, whatever the fleet and queue (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 12 }),
        (frees, sizes) => {
          const pools = frees.map((free, i) => pool(i + 1, free));
          const jobs = sizes.map((size, i) => job(i + 1, size));
          const plan = planPass(pools, jobs, new Map(), { now: 0 });
          const placed = new Set(plan.placements.map((x) => x.job.id));
          for (const j of jobs) {
            if (placed.has(j.id)) continue;
            const reason = plan.blocked.get(j.id);
            expect(reason).toMatch(/^(reserved|fragmentation|priority|no capacity|no matching GPU type): \S/);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("queue order and type-aware reservations", () => {
  const typed = (nodeId: number, model: string, free: number, busyUntilMin = 600): PlanPool => ({
    ...pool(nodeId, free),
    model,
    releases: free < 8 ? [{ end: busyUntilMin * 60_000, gpus: 8 - free }] : [],
  });
  const at = (j: PlanJob, priority: number, submittedMin: number, gpuType: string | null = null): PlanJob => ({
    ...j,
    priority,
    submittedAt: submittedMin * 60_000,
    gpuType,
  });
  const now = 60 * 60_000;

  it("priority decides who goes first when both fit and were submitted together", () => {
    const jobs = [at(job(1, 1), 5, 50), at(job(2, 1), 2, 50)];
    const plan = planPass([pool(1, 1)], queueOrder(jobs, now), new Map(), { now });
    expect(plan.placements.map((p) => p.job.id)).toEqual([2]);
    expect(plan.blocked.get(1)).toMatch(/^priority: behind job 2 /);
  });

  it("priority 1 goes before any other job, however long that one has waited", () => {
    const jobs = [at(job(1, 1), 2, 0), at(job(2, 1), 1, 59)];
    expect(queueOrder(jobs, now).map((j) => j.id)).toEqual([2, 1]);
  });

  it("among equal priority a short job passes a long one; a long wait wins back the place", () => {
    const short = at(job(1, 1, 5), 3, 30);
    const long = at(job(2, 1, 600), 3, 29);
    expect(queueOrder([long, short], now).map((j) => j.id)).toEqual([1, 2]);
    const longer = at(job(3, 1, 600), 3, -300); // waited 6 hours: half its estimate (5 h) is made up
    expect(queueOrder([short, longer], now).map((j) => j.id)).toEqual([3, 1]);
  });

  it("a lower priority that waited long goes before fresh higher-priority work", () => {
    const old = at(job(1, 1), 4, 0);
    const fresh = at(job(2, 1), 2, 59);
    expect(queueOrder([fresh, old], now).map((j) => j.id)).toEqual([1, 2]);
  });

  it("a typed job is not held behind an untyped reservation", () => {
    // The untyped 8-GPU job reserves the T4 node (it drains first); a long V100 job still runs on the V100 node.
    const pools = [typed(1, "T4", 6, 70), typed(2, "V100M32", 2, 600)];
    const plan = planPass(pools, [job(1, 8, 60), { ...job(2, 1, 600), gpuType: "V100M32" }], new Map(), { now });
    expect(plan.reservations.map((r) => [r.jobId, r.pool.model])).toEqual([[1, "T4"]]);
    expect(plan.placements.map((p) => [p.job.id, p.pool.model])).toEqual([[2, "V100M32"]]);
  });

  it("an untyped job is not held behind a typed reservation, and a typed list ('A|B') matches either model", () => {
    // The T4 8-GPU job reserves the T4 node; a long untyped job goes to the other node instead of waiting.
    const pools = [typed(1, "T4", 6, 70), typed(2, "P100", 2, 600)];
    const jobs = [{ ...job(1, 8, 60), gpuType: "T4" }, job(2, 1, 600), { ...job(3, 1, 600), gpuType: "G2|P100" }];
    const plan = planPass(pools, jobs, new Map(), { now });
    expect(plan.reservations.map((r) => [r.jobId, r.pool.model])).toEqual([[1, "T4"]]);
    expect(plan.placements.map((p) => [p.job.id, p.pool.model])).toEqual([
      [2, "P100"],
      [3, "P100"],
    ]);
  });
});

describe("starvation guard", () => {
  const at = (id: number, priority: number, submittedMin: number, estimateMin: number): PlanJob => ({
    ...job(id, 1, estimateMin),
    priority,
    submittedAt: submittedMin * 60_000,
  });
  const now = 600 * 60_000;

  it("on a light queue a long job that has waited 10 min goes ahead of fresh shorter work; before that, shortest first", () => {
    // The queue's mean wait is under 10 min, so the guard is its floor, 10 min.
    const fresh = at(1, 3, 600, 5);
    expect(queueOrder([at(2, 3, 591, 600), fresh], now).map((j) => j.id)).toEqual([1, 2]); // waited 9 min
    expect(queueOrder([at(2, 3, 590, 600), fresh], now).map((j) => j.id)).toEqual([2, 1]); // waited 10 min
    expect(queueOrder([at(2, 3, 590, 600), fresh], now, { guardMs: Infinity }).map((j) => j.id)).toEqual([1, 2]);
  });

  it("the guard follows the queue's mean wait, up to 25 min: on a heavy queue shortest first lasts longer", () => {
    const fresh = at(1, 3, 600, 5);
    // Three jobs that have waited 60 min put the mean wait over 25 min: the guard is 25 min.
    const old = [at(10, 3, 540, 60), at(11, 3, 540, 60), at(12, 3, 540, 60)];
    const order = (long: PlanJob) =>
      queueOrder([...old, long, fresh], now)
        .map((j) => j.id)
        .filter((id) => id < 10);
    expect(order(at(2, 3, 580, 600))).toEqual([1, 2]); // waited 20 min: guarded on a light queue, not here
    expect(order(at(2, 3, 575, 600))).toEqual([2, 1]); // waited 25 min
    // Two jobs that have waited 30 min: the guard is the queue's mean wait, between 10 and 25 min.
    const mid = [at(10, 3, 570, 60), at(11, 3, 570, 60)];
    const midOrder = (long: PlanJob) =>
      queueOrder([...mid, long, fresh], now)
        .map((j) => j.id)
        .filter((id) => id < 10);
    expect(midOrder(at(2, 3, 586, 600))).toEqual([1, 2]); // waited 14 min; mean (30+30+14+0)/4 = 18.5 min
    expect(midOrder(at(2, 3, 580, 600))).toEqual([2, 1]); // waited 20 min; mean (30+30+20+0)/4 = 20 min
  });

  it("so does a job that has waited twice its estimate (and at least 5 min), even against a higher priority", () => {
    // Only the guard by estimate (no absolute guard), and 300 s per priority level: priority 9 is 35 min of queue
    // order behind priority 2, so without the guard the fresh job goes first.
    const weights = { guardMs: Infinity, stepS: 300 };
    const fresh = at(1, 2, 600, 1);
    expect(queueOrder([at(2, 9, 580, 10), fresh], now, weights).map((j) => j.id)).toEqual([2, 1]); // 20 min ≥ 2 × 10
    expect(queueOrder([at(2, 9, 581, 10), fresh], now, weights).map((j) => j.id)).toEqual([1, 2]); // 19 min
    expect(queueOrder([at(2, 9, 596, 1), fresh], now, weights).map((j) => j.id)).toEqual([1, 2]); // 4 min: under 5
  });

  it("a job of n GPUs is guarded after n times the guard (its reservation drains a node for it)", () => {
    const fresh = at(1, 3, 600, 5);
    const fourGpus = (submittedMin: number) => ({ ...at(2, 3, submittedMin, 600), gpuCount: 4 });
    // Waited w with the fresh job beside it: the mean is w/2, the guard min(25, max(10, w/2)) min, × 4.
    expect(queueOrder([fourGpus(510), fresh], now).map((j) => j.id)).toEqual([1, 2]); // 90 min: under 4 × 25
    expect(queueOrder([fourGpus(500), fresh], now).map((j) => j.id)).toEqual([2, 1]); // 100 min
    expect(queueOrder([fourGpus(585), fresh], now, { guardSizeExp: 0 }).map((j) => j.id)).toEqual([2, 1]); // 15 min
  });

  it("among guarded jobs the estimate moves a job back by at most 2 h; among the rest it is not capped", () => {
    // 1 and 2 have waited 100 and 40 min (guarded); 3 and 4 are fresh.
    const jobs = [at(1, 3, 500, 1200), at(2, 3, 560, 240), at(3, 3, 600, 1200), at(4, 3, 600, 240)];
    // 1: 500 + min(600, 120) = 620 before 2: 560 + 120 = 680; fresh 4 (600 + 120) before fresh 3 (600 + 600).
    expect(queueOrder(jobs, now).map((j) => j.id)).toEqual([1, 2, 4, 3]);
    // Uncapped, the 20 h job 1 (500 + 600) stays behind 2 though it has waited far longer.
    const uncapped = queueOrder(jobs, now, { guardedEstimateCapMs: Infinity });
    expect(uncapped.map((j) => j.id)).toEqual([2, 1, 4, 3]);
  });

  it("among guarded jobs priority and estimate still order; priority 1 still goes first", () => {
    const jobs = [at(1, 4, 500, 60), at(2, 2, 500, 60), at(3, 1, 600, 60), at(4, 2, 500, 5)];
    expect(queueOrder(jobs, now).map((j) => j.id)).toEqual([3, 4, 2, 1]);
  });
});

describe("type-aware placement", () => {
  const node = (nodeId: number, model: string, total: number, free: number): PlanPool => ({
    ...pool(nodeId, free, total),
    model,
    releases: free < total ? [{ end: 600 * 60_000, gpus: total - free }] : [],
  });
  const typedJob = (id: number, gpuType: string) => ({ ...job(id, 1), gpuType });

  it("an untyped job keeps off a model a waiting typed job needs; plain best fit would take it", () => {
    const pools = () => [node(1, "P100", 2, 1), node(2, "G2", 8, 3)];
    const jobs = [job(1, 1), typedJob(2, "P100")];
    const plan = planPass(pools(), jobs, new Map(), { now: 0 });
    expect(plan.placements.map((p) => [p.job.id, p.pool.model])).toEqual([
      [1, "G2"],
      [2, "P100"],
    ]);
    const bestFit = planPass(pools(), jobs, new Map(), { now: 0, placement: "bestFit" });
    expect(bestFit.placements.map((p) => [p.job.id, p.pool.model])).toEqual([[1, "P100"]]);
    expect(bestFit.blocked.get(2)).toMatch(/^priority: behind job 1 /);
  });

  it("spreads over models by free GPUs, best fit within the model", () => {
    const pools = [node(1, "P100", 2, 1), node(2, "G2", 8, 5), node(3, "G2", 8, 2)];
    const plan = planPass(pools, [job(1, 1)], new Map(), { now: 0 });
    expect(plan.placements.map((p) => p.pool.nodeId)).toEqual([3]);
  });

  it("leaves an empty node of the largest size for last, so an 8-GPU job still finds one", () => {
    const pools = [node(1, "G2", 8, 8), node(2, "T4", 2, 2)];
    const plan = planPass(pools, [job(1, 1), job(2, 8)], new Map(), { now: 0 });
    expect(plan.placements.map((p) => [p.job.id, p.pool.nodeId])).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it("a multi-GPU job goes where it fragments the queue's workload least (FGD), not to the tightest node", () => {
    // Best fit puts the first 2-GPU job on node 1 (3 free), stranding 1 GPU there: the 3-GPU job then fits nowhere.
    const pools = () => [node(1, "G2", 8, 3), node(2, "G2", 8, 4)];
    const jobs = [job(1, 2), job(2, 2), job(3, 3)];
    const fgd = planPass(pools(), jobs, new Map(), { now: 0 });
    expect(fgd.placements.map((p) => [p.job.id, p.pool.nodeId])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
    const before = planPass(pools(), jobs, new Map(), { now: 0, fgd: "off" });
    expect(before.placements.map((p) => [p.job.id, p.pool.nodeId])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(before.blocked.get(3)).toBe(
      "fragmentation: at least 3 GPUs are free in cluster 1, but no node has 3 of them free",
    );
  });

  it("a job that accepts one model gets plain best fit", () => {
    const pools = [node(1, "G2", 8, 8), node(2, "G2", 8, 3), node(3, "T4", 2, 2)];
    const plan = planPass(pools, [typedJob(1, "G2")], new Map(), { now: 0 });
    expect(plan.placements.map((p) => p.pool.nodeId)).toEqual([2]);
  });
});
