// The judgement of a rerun, pure: which run a prefix names, the environment diff field by field,
// the loss trajectory step by step, throughput and energy against a stated tolerance (or the two
// runs' confidence intervals when the ledger has them), and the verdict with its exit code.
import { printable } from "../printable.ts"
import { CI_SANITY_BOUND, unreliable } from "../report/noise.ts"

/** Exit codes of `tunegrid rerun` (1 stays "the command itself failed": bad prefix, no ledger). */
export const rerunExitCodes = {
  reproduced: 0,
  "not reproduced": 3,
  "environment changed": 4,
  "rerun failed": 5,
  refused: 6
} as const
export type Verdict = keyof typeof rerunExitCodes

// ---------------------------------------------------------------- prefix resolution

export interface Match {
  readonly runId: string
  readonly cellHash: string
  readonly status: string
  readonly startedAt: string
  readonly label: string
}

export type Resolution =
  | { readonly _tag: "Run"; readonly run: Match; readonly via: "run id" | "cell hash" }
  | { readonly _tag: "Problem"; readonly message: string }

const describe = (m: Match) =>
  `${m.runId.slice(0, 8)}  cell ${m.cellHash.slice(0, 12)}  ${m.status.padEnd(11)} ${m.startedAt.slice(0, 19)}  ${printable(m.label)}`

/** A rerun starts a trainer: a one- or two-character prefix that happens to match is too easy to type by mistake. */
export const MIN_PREFIX = 4

/**
 * A prefix names one run (by run id) or one cell (by cell hash; its latest succeeded run is the
 * source). `matches` are the runs whose run id or cell hash starts with the prefix.
 */
export const resolvePrefix = (prefix: string, matches: ReadonlyArray<Match>): Resolution => {
  const p = prefix.trim().toLowerCase()
  if (p.length < MIN_PREFIX) {
    return {
      _tag: "Problem",
      message: `"${prefix}" is too short: give at least ${MIN_PREFIX} characters of a run id or cell hash (tunegrid runs lists them)`
    }
  }
  const byRun = matches.filter((m) => m.runId.toLowerCase().startsWith(p))
  const cells = [...new Set(matches.filter((m) => m.cellHash.toLowerCase().startsWith(p)).map((m) => m.cellHash))]
  const list = (ms: ReadonlyArray<Match>) =>
    ms
      .slice(0, 20)
      .map((m) => `  ${describe(m)}`)
      .join("\n") + (ms.length > 20 ? `\n  … and ${ms.length - 20} more` : "")
  if (byRun.length + cells.length === 0)
    return { _tag: "Problem", message: `no run id or cell hash in the ledger starts with "${prefix}" (tunegrid runs lists them)` }
  if (byRun.length + cells.length > 1) {
    const shown = [...byRun, ...matches.filter((m) => cells.includes(m.cellHash) && !byRun.includes(m))]
    return {
      _tag: "Problem",
      message: `"${prefix}" is ambiguous: it starts ${byRun.length} run id(s) and ${cells.length} cell hash(es); use a longer prefix:\n${list(shown)}`
    }
  }
  if (byRun.length === 1) {
    const run = byRun[0]!
    return run.status === "succeeded"
      ? { _tag: "Run", run, via: "run id" }
      : { _tag: "Problem", message: `run ${run.runId.slice(0, 8)} ended ${run.status}; a rerun is judged against a succeeded run` }
  }
  const ofCell = matches.filter((m) => m.cellHash === cells[0])
  const succeeded = ofCell.filter((m) => m.status === "succeeded").sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))
  if (succeeded.length === 0)
    return { _tag: "Problem", message: `cell ${cells[0]!.slice(0, 12)} has no succeeded run to rerun against:\n${list(ofCell)}` }
  return { _tag: "Run", run: succeeded[0]!, via: "cell hash" }
}

// ---------------------------------------------------------------- environment diff

export interface FieldChange {
  readonly field: string
  readonly before: unknown
  readonly after: unknown
}

/** Field-by-field difference of two fact objects, keys in first-seen order. */
export const diffFields = (before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>) => {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
  const changed: Array<FieldChange> = []
  const same: Array<string> = []
  for (const key of keys) {
    const a = before[key] ?? null
    const b = after[key] ?? null
    if (JSON.stringify(a) === JSON.stringify(b)) same.push(key)
    else changed.push({ field: key, before: a, after: b })
  }
  return { changed, same }
}

// ---------------------------------------------------------------- checks

export type CheckStatus = "reproduced" | "not reproduced" | "not judged"
export interface Check {
  readonly name: string
  readonly status: CheckStatus
  readonly detail: string
}

export interface StepLoss {
  readonly step: number
  readonly loss: number
}

/**
 * Step-by-step loss. `exact` (deterministic mode, same environment): every common step must
 * carry the same IEEE double. Otherwise each step may differ by `tolerance` × |original loss|.
 * With a window counted in steps both runs must also have the same number of steps.
 */
export const compareLoss = (
  before: ReadonlyArray<StepLoss>,
  after: ReadonlyArray<StepLoss>,
  o: { readonly exact: boolean; readonly tolerance: number; readonly why: string; readonly sameStepCount: boolean }
): Check => {
  const name = "loss"
  const other = new Map(after.map((s) => [s.step, s.loss]))
  const common = before.filter((s) => other.has(s.step))
  if (common.length === 0) return { name, status: "not judged", detail: "no step in common" }
  let worst = 0
  let firstOff: { step: number; a: number; b: number } | null = null
  for (const s of common) {
    const b = other.get(s.step)!
    const rel = Math.abs(b - s.loss) / Math.max(Math.abs(s.loss), 1e-12)
    worst = Math.max(worst, rel)
    const off = o.exact ? !Object.is(b, s.loss) : rel > o.tolerance
    if (off && firstOff === null) firstOff = { step: s.step, a: s.loss, b }
  }
  const counts =
    before.length === after.length
      ? `${common.length} steps`
      : `${common.length} common steps (original ${before.length}, rerun ${after.length})`
  const countOff = o.sameStepCount && before.length !== after.length
  const rule = o.exact ? `bit-identical (${o.why})` : `within ±${pct(o.tolerance)} of the original at every step (${o.why})`
  if (firstOff === null && !countOff) {
    return { name, status: "reproduced", detail: `${counts} ${rule}${o.exact ? "" : `; largest difference ${pct(worst)}`}` }
  }
  const at = firstOff ? `; first difference at step ${firstOff.step}: ${firstOff.a} → ${firstOff.b}` : ""
  return {
    name,
    status: "not reproduced",
    detail: `${counts}, expected ${rule}${countOff ? "; the step counts differ" : ""}${at}; largest difference ${pct(worst)}`
  }
}

export interface Figure {
  readonly value: number | null
  readonly ciLow?: number | null
  readonly ciHigh?: number | null
}

const pct = (x: number) => {
  const p = x * 100
  return `${Math.abs(p) >= 10 ? p.toFixed(0) : p === 0 ? "0" : Number(p.toPrecision(2)).toString()}%`
}
const num = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : Number(x.toPrecision(4)).toString())

/**
 * A throughput-like figure. When both runs carry a 95% CI, reproduced means the intervals
 * overlap, and neither is judged when either interval is wider than the noise bound (±25%, as the
 * report marks such figures): two such intervals overlap, or miss, by chance. Otherwise the rerun
 * must lie within ±tolerance (relative) of the original.
 */
export const compareFigure = (name: string, unit: string, before: Figure, after: Figure, tolerance: number, missing: string): Check => {
  if (before.value === null || after.value === null) {
    const which = before.value === null && after.value === null ? "either run" : before.value === null ? "the original run" : "the rerun"
    return { name, status: "not judged", detail: `not measured in ${which} (${missing})` }
  }
  const change = after.value / before.value - 1
  const shown = `${num(before.value)} → ${num(after.value)} ${unit} (${change >= 0 ? "+" : ""}${pct(change)})`
  const hasCi = [before.ciLow, before.ciHigh, after.ciLow, after.ciHigh].every((x) => typeof x === "number")
  if (hasCi) {
    const noise = (who: string, f: Figure) => {
      const rel = (f.ciHigh! - f.ciLow!) / 2 / Math.abs(f.value!)
      return unreliable(rel) ? [`${who}'s ±${pct(rel)}`] : []
    }
    const noisy = [...noise("the original run", before), ...noise("the rerun", after)]
    if (noisy.length > 0) {
      const why = `95% CI ${noisy.join(" and ")} is noise (wider than ±${pct(CI_SANITY_BOUND)})`
      return { name, status: "not judged", detail: `${shown}; ${why}` }
    }
    const overlap = after.ciLow! <= before.ciHigh! && before.ciLow! <= after.ciHigh!
    const detail = `${shown}; 95% CIs [${num(before.ciLow!)}, ${num(before.ciHigh!)}] and [${num(after.ciLow!)}, ${num(after.ciHigh!)}] ${overlap ? "overlap" : "do not overlap"}`
    return { name, status: overlap ? "reproduced" : "not reproduced", detail }
  }
  const ok = Math.abs(change) <= tolerance
  return {
    name,
    status: ok ? "reproduced" : "not reproduced",
    detail: `${shown}, ${ok ? "within" : "outside"} ±${pct(tolerance)} (relative tolerance; no CIs recorded)`
  }
}

// ---------------------------------------------------------------- verdict

export const decide = (o: {
  readonly environmentChanged: boolean
  readonly checks: ReadonlyArray<Check>
}): { verdict: Verdict; exitCode: number; note: string } => {
  const failed = o.checks.filter((c) => c.status === "not reproduced").map((c) => c.name)
  const judged = o.checks.filter((c) => c.status !== "not judged").map((c) => c.name)
  const numbers = failed.length === 0 ? `${judged.join(", ") || "nothing"} within tolerance` : `${failed.join(", ")} not reproduced`
  const verdict: Verdict = o.environmentChanged ? "environment changed" : failed.length > 0 ? "not reproduced" : "reproduced"
  return { verdict, exitCode: rerunExitCodes[verdict], note: numbers }
}
