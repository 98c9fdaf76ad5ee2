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
 * `previous`: the production queue order until 2026-11-30 afternoon (300 s per priority level, a fixed 25 min ×
 * GPUs guard, no cap on the estimate among guarded jobs). `before`: the policy the morning's search started
 * from (previous, without FGD and with the same 25 min guard for all sizes). The first block of variants is
 * measured on `before`, "on previous" on `previous`, "on current" on the production defaults.
 */
const previous: Variant = {
  name: "previous (fixed 25 min × GPUs guard, 300 s per priority level)",
  weights: { stepS: 300, guardFloorMs: 25 * min, guardedEstimateCapMs: Number.POSITIVE_INFINITY },
};
const before: Variant = { name: "before", plan: { fgd: "off" }, weights: { ...previous.weights, guardSizeExp: 0 } };
const variants: Variant[] = [
  { name: "current (guard follows the queue's mean wait within 10–25 min × GPUs, 60 s per level)" },
  previous,
  before,
];
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
// On the previous production defaults: what the ideas not kept would add, and this afternoon's search.
const onPrevious = (name: string, plan: Variant["plan"] = {}, weights: QueueWeights = {}) =>
  variants.push({ name: `on previous: ${name}`, plan, weights: { ...previous.weights, ...weights } });
for (const w of [30, 120]) onPrevious(`bf_window ${w} min`, { reservationWindowMs: w * min });
onPrevious("type-aware reservation", { reserveChoice: "typeAware" });
onPrevious("least-idle reservation", { reserveChoice: "leastIdle" });
for (const g of [10, 15, 20])
  onPrevious(`fixed guard ${g} min × GPUs`, {}, { guardMs: g * min, guardFloorMs: g * min });
for (const st of [60, 150]) onPrevious(`priority step ${st} s`, {}, { stepS: st });
for (const [lo, hi] of [
  [10, 25],
  [10, 30],
  [15, 25],
  [5, 25],
  [10, 40],
])
  onPrevious(`guard = queue's mean wait within ${lo}–${hi} min`, {}, { guardFloorMs: lo * min, guardMs: hi * min });
for (const st of [30, 60, 120])
  for (const hi of [25, 30])
    onPrevious(
      `step ${st} s + guard = mean wait within 10–${hi} min`,
      {},
      {
        stepS: st,
        guardFloorMs: 10 * min,
        guardMs: hi * min,
      },
    );
for (const cap of [30, 60, 120])
  onPrevious(
    `step 60 s + guard within 10–25 min + guarded estimate cap ${cap} min`,
    {},
    {
      stepS: 60,
      guardFloorMs: 10 * min,
      guardMs: 25 * min,
      guardedEstimateCapMs: cap * min,
    },
  );
// On the production defaults.
for (const cap of [60, 240])
  variants.push({ name: `on current: guarded estimate cap ${cap} min`, weights: { guardedEstimateCapMs: cap * min } });
variants.push({ name: "on current: type-aware reservation", plan: { reserveChoice: "typeAware" } });
for (const exp of [0.5, 0.75])
  variants.push({ name: `on current: guard × gpus^${exp}`, weights: { guardSizeExp: exp } });

const wanted = process.argv.slice(2);
const chosen = wanted.length ? variants.filter((v) => wanted.some((w) => v.name.includes(w))) : variants;
// FRESH=1/2/3: twelve other subsamples each (bench/replay-lists.ts freshLists), to check a choice made on the table.
const fresh = { "1": [201, 150], "2": [301, 120], "3": [401, 180] }[process.env.FRESH ?? ""];
const { settings } = fresh ? freshLists(fresh[0], fresh[1]) : replayLists();
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
