// A local pool's live part (`run --slots N` / `--gpus …`): one lane per slot, each a single line
// naming its slot and what runs there (position, phase and steps, token rate with its live CI,
// power, memory, elapsed time, the cell), or "idle". One line a lane keeps several slots within an
// 80 × 24 terminal, where one current-cell panel per slot would not fit; lines are cut at the edge.
import { Box, Text } from "ink"
import { createElement as h, type ReactNode } from "react"
import { short } from "../hash.ts"
import { axisText, duration, num } from "./live.ts"
import type { Current, Row } from "./state.ts"

/** Lanes drawn at most; beyond, the busy slots come first and one line counts the rest. */
export const MAX_LANES = 8

/** Lines the lanes' box takes: its lanes (and the "more" line) plus the border. */
export const lanesHeight = (slots: number): number => Math.min(slots, MAX_LANES) + 2

const PHASE: Record<Current["phase"], { readonly text: string; readonly color: string }> = {
  starting: { text: "◌ starting", color: "cyan" },
  warmup: { text: "◔ warming up", color: "yellow" },
  window: { text: "◉ measuring", color: "cyan" },
  after: { text: "◉ finishing", color: "cyan" }
}

/** The token rate over the window so far (else the last step's), with its live CI when it has one. */
const rateText = (c: Current): string => {
  if (c.rates.length === 0) return "— tok/s"
  const tokens = c.windowSteps.reduce((s, x) => s + x.tokens, 0)
  const seconds = c.windowSteps.reduce((s, x) => s + x.seconds, 0)
  // the trainer's own CI, the one its stop rule uses
  const half = c.ciHalfRel
  return `${num(seconds > 0 ? tokens / seconds : c.rates.at(-1)!)} tok/s${half === null ? "" : ` ±${num(half * 100)}%`}`
}

/** GPU memory used of the card, or the host's RSS on a CPU slot. */
const memoryText = (c: Current): string | null => {
  const capacity = c.sampler?.memTotalMib ?? c.gpuMemoryMib
  const used = c.memUsedMib ?? c.torchReservedMib
  if (capacity !== null && capacity !== undefined) return used === null ? null : `${num(used / 1024, 1)}/${num(capacity / 1024, 0)} GiB`
  return c.hostRssMib === null ? null : `RSS ${num(c.hostRssMib, 0)} MiB`
}

const Lane = ({
  name,
  width,
  current: c,
  row,
  now
}: {
  readonly name: string
  readonly width: number
  readonly current: Current | undefined
  readonly row: Row | undefined
  readonly now: number
}): ReactNode => {
  const label = h(Text, { bold: true }, name.padEnd(width))
  if (c === undefined) return h(Text, { wrap: "truncate-end" }, label, h(Text, { dimColor: true }, "  idle"))
  const phase = PHASE[c.phase]
  const cell = row ? [short(row.cellHash), ...Object.entries(row.axisValues).map(([k, v]) => `${k}=${axisText(v)}`)].join(" ") : null
  const power = c.lastReading?.powerW === null || c.lastReading === null ? null : `${num(c.lastReading.powerW, 0)} W`
  // the figures first, to stay within 80 columns; the cell last (its row in the table says it in full)
  const rest = [rateText(c), power, memoryText(c), duration((now - c.startedAt) / 1000), cell].filter((x) => x !== null)
  return h(
    Text,
    { wrap: "truncate-end" },
    label,
    `  ${c.position} `,
    h(Text, { color: phase.color }, phase.text),
    ` ${c.steps} steps · ${rest.join(" · ")}`
  )
}

/** One lane per slot of the pool, in the slots' order (the busy ones first when not all fit). */
export const Lanes = ({
  slots,
  running,
  rows,
  now
}: {
  readonly slots: ReadonlyArray<string>
  readonly running: ReadonlyArray<Current>
  readonly rows: ReadonlyMap<string, Row>
  /** Epoch ms, for the elapsed times. */
  readonly now: number
}): ReactNode => {
  const bySlot = new Map(running.map((c) => [c.slot ?? "", c]))
  const fits = slots.length <= MAX_LANES
  const order = fits ? slots : [...slots.filter((s) => bySlot.has(s)), ...slots.filter((s) => !bySlot.has(s))]
  const shown = order.slice(0, fits ? MAX_LANES : MAX_LANES - 1)
  const width = Math.max(...shown.map((s) => s.length))
  const hidden = order.slice(shown.length)
  return h(
    Box,
    { flexDirection: "column", borderStyle: "round", paddingX: 1 },
    ...shown.map((name) => {
      const c = bySlot.get(name)
      return h(Lane, { key: name, name, width, current: c, row: c ? rows.get(c.position) : undefined, now })
    }),
    hidden.length > 0
      ? h(
          Text,
          { dimColor: true, wrap: "truncate-end" },
          `… ${hidden.length} more slots (${hidden.filter((s) => bySlot.has(s)).length} running)`
        )
      : null
  )
}
