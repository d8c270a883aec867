// The current-cell panel: phase and where warm-up ended, step count against the stop rule, a
// sparkline of the per-step token rate, the trainer's CI half-width (the one its stop rule uses,
// from each step event) against its target, power and
// energy so far, VRAM used against the card, and the loss.
import { Box, Text } from "ink"
import { createElement as h, type ReactNode } from "react"
import { short } from "../hash.ts"
import { axisText, bar, duration, energySoFar, num, sparkline, spanText } from "./live.ts"
import type { Current, Row } from "./state.ts"

/** The stop rule's parts this panel shows; a grid without a CI target has `ciTarget` null (or none). */
export interface MeasureView {
  readonly warmup?: unknown
  readonly window?: unknown
  readonly ciTarget?: number | null
}

const Line = ({ label, children }: { readonly label: string; readonly children?: ReactNode }): ReactNode =>
  h(Box, null, h(Box, { width: 9, flexShrink: 0 }, h(Text, { dimColor: true }, label)), h(Text, { wrap: "truncate-end" }, children))

const phaseText = (c: Current, m: MeasureView): string => {
  switch (c.phase) {
    case "starting":
      return "starting the trainer (loading model and data)"
    case "warmup":
      return `warming up: ${c.warmupSteps} steps so far, excluded until ${m.warmup === undefined ? "the cut" : spanText(m.warmup)}`
    case "window":
    case "after":
      return `${c.phase === "window" ? "measuring" : "finishing"}: warm-up ended at step ${c.windowStart?.step ?? "?"} (${num(c.windowStart?.seconds ?? null)} s)`
  }
}

const stepsText = (c: Current, m: MeasureView): string => {
  const inWindow = c.windowSteps.length
  return `${c.steps} (${c.warmupSteps} warm-up + ${inWindow} window${m.window === undefined ? "" : ` of ${spanText(m.window)}`})`
}

const rateText = (c: Current): string => {
  if (c.rates.length === 0) return "—"
  const tokens = c.windowSteps.reduce((s, x) => s + x.tokens, 0)
  const seconds = c.windowSteps.reduce((s, x) => s + x.seconds, 0)
  const windowRate = seconds > 0 ? ` · window ${num(tokens / seconds)}` : ""
  return `${sparkline(c.rates)} ${num(c.rates[c.rates.length - 1]!)} tok/s now${windowRate}`
}

const ciLine = (c: Current, m: MeasureView): ReactNode => {
  const half = c.ciHalfRel
  if (half === null) return "— (the trainer reports it once the window holds 2 steps)"
  const pct = `±${num(half * 100)}%`
  if (m.ciTarget === undefined || m.ciTarget === null) return `${pct} (live estimate; no target in this grid)`
  return [
    h(Text, { key: "b", color: half <= m.ciTarget ? "green" : "yellow" }, bar(m.ciTarget / half, 20)),
    ` ${pct} → target ±${num(m.ciTarget * 100)}%`
  ]
}

/** A sampler's reason for measuring nothing, in a few words: NVML's exception text says which
 * library call failed, not what it means for the run. */
export const samplerReason = (reason: string): string => {
  const text = reason.split("\n")[0]!.trim()
  if (/NVMLError_LibraryNotFound|NVML Shared Library Not Found|libnvidia-ml/i.test(text))
    return "NVML library not found (no NVIDIA driver here)"
  if (/NVMLError_DriverNotLoaded|Driver Not Loaded/i.test(text)) return "NVIDIA driver not loaded"
  if (/NVMLError_NoPermission|Insufficient Permissions/i.test(text)) return "no permission to read the GPU through NVML"
  if (/NVMLError_NotSupported|Not Supported/i.test(text)) return "this GPU does not report power through NVML"
  if (/NVMLError|pynvml|Traceback|Exception/.test(text)) return "NVML failed (the sampler's log has the details)"
  return text
}

const powerText = (c: Current): string => {
  if (c.sampler !== null && c.sampler.mode === "none") return `— (no GPU sampler: ${samplerReason(c.sampler.reason)})`
  if (c.lastReading === null) return "— (no samples yet)"
  const e = energySoFar(c.firstReading, c.lastReading, c.integratedJ)
  const watts = c.lastReading.powerW === null ? "— W" : `${num(c.lastReading.powerW, 0)} W`
  return e === null
    ? watts
    : `${watts} · ${e.joules >= 1000 ? `${num(e.joules / 1000, 2)} kJ` : `${num(e.joules, 0)} J`} so far (${e.method})`
}

const vramLine = (c: Current): ReactNode => {
  const capacity = c.sampler?.memTotalMib ?? c.gpuMemoryMib
  const used = c.memUsedMib ?? c.torchReservedMib
  if (capacity === null || capacity === undefined) {
    const host = [
      c.hostRssMib === null ? null : `RSS ${num(c.hostRssMib, 0)} MiB`,
      c.hostCpuPct === null ? null : `CPU ${num(c.hostCpuPct, 0)}%`
    ]
    return `— (no GPU)${host.some((x) => x !== null) ? ` · host ${host.filter((x) => x !== null).join(", ")}` : ""}`
  }
  if (used === null) return `— of ${num(capacity / 1024)} GiB`
  const fraction = used / capacity
  return [
    h(Text, { key: "b", color: fraction > 0.9 ? "red" : fraction > 0.75 ? "yellow" : "green" }, bar(fraction, 20)),
    ` ${num(used / 1024, 2)} / ${num(capacity / 1024, 1)} GiB${c.memUsedMib === null ? " (torch reserved)" : ""}`
  ]
}

export const CurrentPanel = ({
  current: c,
  row,
  measure,
  now
}: {
  readonly current: Current
  readonly row: Row | undefined
  readonly measure: MeasureView
  /** Epoch ms, for the elapsed time. */
  readonly now: number
}): ReactNode => {
  const what = row ? [short(row.cellHash), ...Object.entries(row.axisValues).map(([k, v]) => `${k}=${axisText(v)}`)].join(" ") : ""
  const lossText = c.loss === null ? "—" : `${num(c.loss, 3)}${c.firstLoss === null ? "" : ` (first ${num(c.firstLoss, 3)})`}`
  return h(
    Box,
    { flexDirection: "column", borderStyle: "round", paddingX: 1 },
    h(
      Text,
      { bold: true, wrap: "truncate-end" },
      `▶ ${c.position} ${what} · ${c.model ?? "…"}${c.device ? ` on ${c.device}` : ""} · ${duration((now - c.startedAt) / 1000)}`
    ),
    h(Line, { label: "phase" }, phaseText(c, measure)),
    h(Line, { label: "steps" }, stepsText(c, measure)),
    h(Line, { label: "tok/s" }, rateText(c)),
    h(Line, { label: "CI" }, ciLine(c, measure)),
    h(Line, { label: "power" }, powerText(c)),
    h(Line, { label: "VRAM" }, vramLine(c)),
    h(Line, { label: "loss" }, lossText)
  )
}
