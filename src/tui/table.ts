// The grid table: the run title, the column heads, and one row per planned run (status, the axis
// values that vary, tok/s with its CI, T10k, VRAM peak, J/token), with a failed run's message and
// stderr tail under it. Components take props and render; nothing here reads the runner.
import { Box, Text } from "ink"
import { createElement as h, type ReactNode } from "react"
import { short } from "../hash.ts"
import type { PlanInfo } from "../progress.ts"
import { axisText, num } from "./live.ts"
import type { Row, RowStatus } from "./state.ts"

const FAILURE_LABELS: Record<string, string> = {
  oom: "oom", crash: "crash", nan_loss: "nan", missing_dependency: "missing dep", bad_spec: "bad spec", data_error: "data error",
  protocol: "protocol", stalled: "stalled"
}

const TAIL_KINDS: ReadonlySet<string> = new Set(["crash", "protocol", "stalled"])

const STATUS: Record<RowStatus, { readonly icon: string; readonly color: string }> = {
  queued: { icon: "·", color: "gray" },
  resumed: { icon: "↺", color: "gray" },
  starting: { icon: "◌", color: "cyan" },
  "warming up": { icon: "◔", color: "yellow" },
  measuring: { icon: "◉", color: "cyan" },
  finishing: { icon: "◉", color: "cyan" },
  succeeded: { icon: "✔", color: "green" },
  unsteady: { icon: "~", color: "yellow" },
  failed: { icon: "✖", color: "red" },
  skipped: { icon: "↷", color: "magenta" },
  interrupted: { icon: "■", color: "yellow" }
}

export const statusText = (row: Pick<Row, "status" | "failureKind">): string => {
  const label = row.status === "failed" ? `failed: ${FAILURE_LABELS[row.failureKind ?? ""] ?? row.failureKind ?? "?"}`
    : row.status === "resumed" ? "done before" : row.status
  return `${STATUS[row.status].icon} ${label}`
}

export const tokSText = (f: Row["figures"]): string => {
  if (f === null || f.tok_s === null) return "—"
  const half = f.tok_s_ci_half
  return typeof half === "number" ? `${num(f.tok_s)} ±${num(half)}` : num(f.tok_s)
}

const vramText = (f: Row["figures"]) => num(f?.vram_peak_mib ?? f?.torch_peak_reserved_mib ?? null, 0)
const jText = (f: Row["figures"]) => (f?.j_per_token === null || f?.j_per_token === undefined ? "—" : f.j_per_token.toExponential(2))

/** Column widths for this grid, from the positions, the varying axes and their values. */
export interface Layout {
  readonly position: number
  readonly axes: ReadonlyArray<{ readonly name: string; readonly width: number }>
}

export const layoutFor = (rows: ReadonlyArray<Row>, axes: ReadonlyArray<string>): Layout => ({
  position: Math.max(1, ...rows.map((r) => r.position.length)),
  axes: axes.map((name) => ({ name, width: Math.max(name.length, ...rows.map((r) => axisText(r.axisValues[name] ?? "").length)) }))
})

const HASH = 12
const STATUS_W = 18
const TOKS = 18
const T10K = 8
const VRAM = 9

const cells = (layout: Layout, values: { pos: string; hash: string; axes: ReadonlyArray<string>; tok: string; t10k: string; vram: string; j: string }) =>
  [
    values.pos.padStart(layout.position),
    values.hash.padEnd(HASH),
    ...values.axes.map((v, i) => v.padEnd(layout.axes[i]!.width)),
    values.tok.padStart(TOKS),
    values.t10k.padStart(T10K),
    values.vram.padStart(VRAM),
    values.j.padStart(10)
  ]

export const Title = ({ plan }: { readonly plan: PlanInfo }): ReactNode =>
  h(Box, { flexDirection: "column" },
    h(Text, null, h(Text, { bold: true }, `tunegrid · ${plan.grid}`), `  ${plan.cells} cells, ${plan.runs} runs, ${plan.toRun} to run`),
    h(Text, { dimColor: true }, `device ${plan.device} · env ${short(plan.envHash)} · ledger ${plan.ledger}`))

export const ColumnHeads = ({ layout }: { readonly layout: Layout }): ReactNode => {
  const [pos, hash, ...rest] = cells(layout, {
    pos: "#", hash: "cell", axes: layout.axes.map((a) => a.name), tok: "tok/s (95% CI)", t10k: "T10k s", vram: "VRAM MiB", j: "J/token"
  })
  return h(Text, { bold: true }, [pos, hash, "status".padEnd(STATUS_W), ...rest].join(" "))
}

export const RowLine = ({ row, layout }: { readonly row: Row; readonly layout: Layout }): ReactNode => {
  const f = row.figures
  const [pos, hash, ...rest] = cells(layout, {
    pos: row.position, hash: short(row.cellHash) + (row.repeat > 0 ? `#${row.repeat}` : ""),
    axes: layout.axes.map((a) => axisText(row.axisValues[a.name] ?? "")),
    tok: tokSText(f), t10k: num(f?.t10k_s ?? null, 2), vram: vramText(f), j: jText(f)
  })
  const style = STATUS[row.status]
  const dim = row.status === "queued" || row.status === "resumed"
  const line = h(Text, { dimColor: dim },
    `${pos} ${hash} `, h(Text, { color: style.color }, statusText(row).padEnd(STATUS_W)), ` ${rest.join(" ")}`)
  if (row.status !== "failed" && row.status !== "interrupted") return line
  const indent = " ".repeat(layout.position + 1)
  // The trainer's own message says why for the kinds it recognises; its stderr tail (often a
  // Python traceback) is shown only when it did not say why: a crash, a protocol error, a stall.
  const tail = TAIL_KINDS.has(row.failureKind ?? "") ? (row.stderrTail ?? "").split("\n").filter(Boolean).slice(-6) : []
  return h(Box, { flexDirection: "column" },
    line,
    row.message ? h(Text, { color: row.status === "failed" ? "red" : "yellow" }, `${indent}${row.message}`) : null,
    ...tail.map((l, i) => h(Text, { key: i, dimColor: true }, `${indent}│ ${l}`)))
}
