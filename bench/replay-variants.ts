/**
 * Measures variants of the gpuplane planner (plan.ts's experimental options and queue weights) on every list of
 * the replay bench (bench/replay-lists.ts), against greedy first-fit and FIFO replayed once per list in the same
 * process. For each variant: comparisons won against greedy (mean, p99 and each class's mean, every list; a
 * comparison is won when gpuplane's delay is lower or both are zero), the same against FIFO, and the p99 ratios.
 *
 *   node bin/run-ts.mjs bench/replay-variants.ts [name …]      (no names: every variant)
 */
import type { PlanOptions, QueueWeights } from "../src/domain/jobs/plan.js";
import { type ReplayResult, replay } from "../src/domain/jobs/replay/simulate.js";
import type { Trace } from "../src/domain/jobs/replay/trace.js";
import { freshLists, replayLists } from "./replay-lists.js";

interface Variant {
  name: string;
  plan?: Omit<PlanOptions, "now">;
  weights?: QueueWeights;
}

const min = 60_000;
/**
 * Every variant is measured on top of `before`, the policy this search started from (2026-11-30: no FGD, the
 * same 25 min guard for all sizes), except "current" (the production defaults) and those under "on current".
 */
const before: Variant = { name: "before", plan: { fgd: "off" }, weights: { guardSizeExp: 0 } };
const variants: Variant[] = [{ name: "current (FGD for multi-GPU jobs, guard 25 min × GPUs)" }, before];
const add = (name: string, plan: Variant["plan"] = {}, weights: QueueWeights = {}) =>
  variants.push({ name, plan: { ...before.plan, ...plan }, weights: { ...before.weights, ...weights } });
for (const w of [10, 30, 60, 120, 240]) add(`bf_window ${w} min`, { reservationWindowMs: w * min });
add("reserve: type-aware node", { reserveChoice: "typeAware" });
add("reserve: least idle (fewest displaced)", { reserveChoice: "leastIdle" });
for (const slack of [5, 15, 30, 60]) {
  for (const choice of ["typeAware", "leastIdle", "typeAwareLeastIdle"] as const) {
    add(`reserve: ${choice} within ${slack} min of the earliest`, {
      reserveChoice: choice,
      reserveSlackMs: slack * min,
    });
  }
}
add("reserve: typeAwareLeastIdle", { reserveChoice: "typeAwareLeastIdle" });
for (const k of [1, 2, 3, 4]) {
  for (const floor of [5, 10, 20]) {
    add(
      `guard ${k}× estimate only, floor ${floor} min`,
      {},
      {
        guardMs: Number.POSITIVE_INFINITY,
        guardEstimateFactor: k,
        guardMinMs: floor * min,
      },
    );
  }
}
for (const exp of [0.5, 1]) add(`guard 25 min × gpus^${exp} (+2× estimate)`, {}, { guardSizeExp: exp });
add("FGD for multi-GPU jobs", { fgd: "multi" });
add("FGD for all jobs", { fgd: "all" });
for (const exp of [0.5, 1]) {
  add(`combo: FGD multi + guard × gpus^${exp}`, { fgd: "multi" }, { guardSizeExp: exp });
  add(
    `combo: FGD multi + guard × gpus^${exp} + type-aware reservation`,
    { fgd: "multi", reserveChoice: "typeAware" },
    {
      guardSizeExp: exp,
    },
  );
  add(`combo: guard × gpus^${exp} + type-aware reservation`, { reserveChoice: "typeAware" }, { guardSizeExp: exp });
}
add("combo: FGD multi + type-aware reservation", { fgd: "multi", reserveChoice: "typeAware" });
// On the production defaults: what the ideas not kept would add now.
for (const w of [30, 120])
  variants.push({ name: `on current: bf_window ${w} min`, plan: { reservationWindowMs: w * min } });
variants.push({ name: "on current: type-aware reservation", plan: { reserveChoice: "typeAware" } });
variants.push({ name: "on current: least-idle reservation", plan: { reserveChoice: "leastIdle" } });

const wanted = process.argv.slice(2);
const chosen = wanted.length ? variants.filter((v) => wanted.some((w) => v.name.includes(w))) : variants;
// FRESH=1: twelve other subsamples (seeds 201–212), never looked at before, to check a choice made on the table.
const { settings } = process.env.FRESH === "1" ? freshLists() : replayLists();
const loaded = settings.map((s) => {
  const trace: Trace = s.trace();
  const opts = { arrivalScale: s.arrivalScale };
  return { s, trace, greedy: replay(trace, "greedy", opts), fifo: replay(trace, "fifo", opts) };
});

const lower = (a: number, b: number) => a < b || (a === b && a === 0);
function wins(ours: ReplayResult, base: ReplayResult): boolean[] {
  return [
    lower(ours.queueing_delay_s.mean, base.queueing_delay_s.mean),
    lower(ours.queueing_delay_s.p99, base.queueing_delay_s.p99),
    ...ours.delay_by_priority.map((c) =>
      lower(c.mean, base.delay_by_priority.find((x) => x.priority === c.priority)?.mean ?? 0),
    ),
  ];
}

for (const v of chosen) {
  let greedyWon = 0;
  let fifoWon = 0;
  let total = 0;
  let p99Won = 0;
  const rows: string[] = [];
  let logRatio = 0;
  for (const l of loaded) {
    const ours = replay(l.trace, "gpuplane", { arrivalScale: l.s.arrivalScale, plan: v.plan, weights: v.weights });
    const g = wins(ours, l.greedy);
    const f = wins(ours, l.fifo);
    greedyWon += g.filter(Boolean).length;
    fifoWon += f.filter(Boolean).length;
    total += g.length;
    if (g[1]) p99Won++;
    const gp = l.greedy.queueing_delay_s.p99;
    if (gp > 0) logRatio += Math.log(Math.max(ours.queueing_delay_s.p99, 1e-9) / gp);
    const yn = (xs: boolean[]) =>
      `${xs
        .slice(0, 2)
        .map((x) => (x ? "Y" : "n"))
        .join("")} ${xs
        .slice(2)
        .map((x) => (x ? "Y" : "n"))
        .join("")}`;
    rows.push(
      `  ${l.s.label.padEnd(42)} greedy ${yn(g)}  fifo ${yn(f)}  mean ${ours.queueing_delay_s.mean} (g ${l.greedy.queueing_delay_s.mean})  p99 ${ours.queueing_delay_s.p99} (g ${gp})  classes ${ours.delay_by_priority.map((c) => c.mean).join(" / ")} (g ${l.greedy.delay_by_priority.map((c) => c.mean).join(" / ")})`,
    );
  }
  console.log(
    `\n== ${v.name}: vs greedy ${greedyWon}/${total} won (p99 ${p99Won}/${loaded.length}), vs fifo ${fifoWon}/${total}; geometric mean p99 ratio to greedy ${Math.exp(logRatio / loaded.length).toFixed(3)}`,
  );
  for (const r of rows) console.log(r);
}
