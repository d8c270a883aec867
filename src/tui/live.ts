// Pure arithmetic and text for the live display: energy so far from sampler readings, ETA,
// sparklines and bars. The figures recorded in the ledger come from ledger/results.sql only; these
// are previews while a cell runs. The live CI is not computed here: the trainer reports its stop
// rule's own in each step event (`ci_half_rel`).
import { printable } from "../printable.ts"

export interface RateStep {
  readonly tokens: number
  /** Step duration in seconds. */
  readonly seconds: number
}

export interface PowerReading {
  /** Epoch seconds. */
  readonly t: number
  readonly powerW: number | null
  /** The card's cumulative energy counter in mJ, when it has one. */
  readonly energyMj: number | null
}

/** Joules since the first reading: the energy counter's delta when present, else trapezoid-integrated power. */
export const energySoFar = (
  first: PowerReading | null,
  last: PowerReading | null,
  integratedJ: number
): { joules: number; method: "counter" | "integrated" } | null => {
  if (first === null || last === null) return null
  if (first.energyMj !== null && last.energyMj !== null) return { joules: (last.energyMj - first.energyMj) / 1000, method: "counter" }
  if (first.powerW === null) return null
  return { joules: integratedJ, method: "integrated" }
}

/** Trapezoid step of power integration between two readings, in joules. */
export const trapezoidJ = (a: PowerReading, b: PowerReading): number =>
  a.powerW === null || b.powerW === null ? 0 : ((a.powerW + b.powerW) / 2) * Math.max(0, b.t - a.t)

/** Seconds left: the mean duration of the runs finished so far times those queued, plus what the current one likely still needs. */
export const etaSeconds = (finishedDurations: ReadonlyArray<number>, queued: number, currentElapsed: number | null): number | null => {
  if (finishedDurations.length === 0) return null
  const mean = finishedDurations.reduce((s, x) => s + x, 0) / finishedDurations.length
  return mean * queued + (currentElapsed === null ? 0 : Math.max(0, mean - currentElapsed))
}

const BLOCKS = "▁▂▃▄▅▆▇█"
/** One character per value, scaled between the smallest and largest of them. */
export const sparkline = (values: ReadonlyArray<number>, width = 40): string => {
  const shown = values.slice(-width)
  if (shown.length === 0) return ""
  const lo = Math.min(...shown)
  const hi = Math.max(...shown)
  return shown.map((v) => BLOCKS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BLOCKS.length - 1))]).join("")
}

/** A bar of `width` cells filled to `fraction` (clamped to 0..1). */
export const bar = (fraction: number, width = 20): string => {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  return "█".repeat(filled) + "░".repeat(width - filled)
}

export const duration = (seconds: number | null): string => {
  if (seconds === null || !Number.isFinite(seconds)) return "—"
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, "0")
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${rest}`
}

/** Number with fixed digits, or a dash for missing. */
export const num = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits)

/** Compact axis value: lists joined with +, numbers as written. */
export const axisText = (v: unknown): string => printable(Array.isArray(v) ? v.join("+") : String(v))

/** "12 steps" / "60 s" for a resolved span ({steps} | {seconds}), or its JSON when it has another shape. */
export const spanText = (span: unknown): string => {
  if (span !== null && typeof span === "object") {
    if ("steps" in span && typeof span.steps === "number") return `${span.steps} steps`
    if ("seconds" in span && typeof span.seconds === "number") return `${span.seconds} s`
  }
  return typeof span === "string" ? span : JSON.stringify(span)
}
