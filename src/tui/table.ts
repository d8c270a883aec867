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
  oom: "oom",
  crash: "crash",
  nan_loss: "nan",
  missing_dependency: "missing dep",
  bad_spec: "bad spec",
  data_error: "data error",
  protocol: "protocol",
  stalled: "stalled"
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
  const label =
    row.status === "failed"
      ? `failed: ${FAILURE_LABELS[row.failureKind ?? ""] ?? row.failureKind ?? "?"}`
      : row.status === "resumed"
        ? "done before"
        : row.status
  return `${STATUS[row.status].icon} ${label}`
}

/** tok/s with its 95% CI as a percentage, as the plain log and the report show it. */
export const tokSText = (f: Row["figures"]): string => {
  if (f === null || f.tok_s === null) return "—"
  const rel = f.tok_s_ci_rel ?? (typeof f.tok_s_ci_half === "number" && f.tok_s > 0 ? f.tok_s_ci_half / f.tok_s : null)
  return rel === null ? num(f.tok_s) : `${num(f.tok_s)} ±${num(100 * rel)}%`
}

const vramText = (f: Row["figures"]) => num(f?.vram_peak_mib ?? f?.torch_peak_reserved_mib ?? null, 0)
const jText = (f: Row["figures"]) => (f?.j_per_token === null || f?.j_per_token === undefined ? "—" : f.j_per_token.toExponential(2))

/** Column widths for this grid and terminal: the positions, the varying axes and their values;
 * on a narrow terminal the cell hash, then J/token, VRAM and T10k are left out and long axis
 * values shortened, so that a row never wraps. */
export interface Layout {
  readonly position: number
  readonly axes: ReadonlyArray<{ readonly name: string; readonly width: number }>
  readonly show: { readonly hash: boolean; readonly t10k: boolean; readonly vram: boolean; readonly j: boolean }
  /** Terminal columns every line is held to. */
  readonly width: number
}

const HASH = 12
const STATUS_W = 18
const TOKS = 16
const T10K = 8
const VRAM = 9
const J = 10

const rowWidth = (position: number, axes: ReadonlyArray<{ width: number }>, show: Layout["show"]) =>
  position +
  1 +
  (show.hash ? HASH + 1 : 0) +
  STATUS_W +
  1 +
  axes.reduce((s, a) => s + a.width + 1, 0) +
  TOKS +
  (show.t10k ? T10K + 1 : 0) +
  (show.vram ? VRAM + 1 : 0) +
  (show.j ? J + 1 : 0)

export const layoutFor = (rows: ReadonlyArray<Row>, axes: ReadonlyArray<string>, width = 160): Layout => {
  const position = Math.max(1, ...rows.map((r) => r.position.length))
  let cols = axes.map((name) => ({ name, width: Math.max(name.length, ...rows.map((r) => axisText(r.axisValues[name] ?? "").length)) }))
  let show = { hash: true, t10k: true, vram: true, j: true }
  for (const drop of ["hash", "j", "vram", "t10k"] as const) {
    if (rowWidth(position, cols, show) <= width) break
    show = { ...show, [drop]: false }
  }
  // still too wide: shorten the widest axis columns, down to 6 characters each
  while (rowWidth(position, cols, show) > width && cols.some((c) => c.width > 6)) {
    const widest = cols.reduce((a, b) => (b.width > a.width ? b : a))
    cols = cols.map((c) => (c === widest ? { ...c, width: c.width - 1 } : c))
  }
  return { position, axes: cols, show, width }
}

const fitText = (t: string, width: number) => (t.length <= width ? t.padEnd(width) : `${t.slice(0, width - 1)}…`)

const cells = (
  layout: Layout,
  values: { pos: string; hash: string; axes: ReadonlyArray<string>; tok: string; t10k: string; vram: string; j: string }
) => [
  values.pos.padStart(layout.position),
  ...(layout.show.hash ? [values.hash.padEnd(HASH)] : []),
  ...values.axes.map((v, i) => fitText(v, layout.axes[i]!.width)),
  values.tok.padStart(TOKS),
  ...(layout.show.t10k ? [values.t10k.padStart(T10K)] : []),
  ...(layout.show.vram ? [values.vram.padStart(VRAM)] : []),
  ...(layout.show.j ? [values.j.padStart(J)] : [])
]

export const Title = ({ plan }: { readonly plan: PlanInfo }): ReactNode =>
  h(
    Box,
    { flexDirection: "column" },
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { bold: true }, `tunegrid · ${plan.grid}`),
      `  ${plan.cells} cells, ${plan.runs} runs, ${plan.toRun} to run`
    ),
    h(Text, { dimColor: true, wrap: "truncate-end" }, `device ${plan.device} · env ${short(plan.envHash)} · ledger ${plan.ledger}`)
  )

const split = (layout: Layout, all: Array<string>) => {
  const pos = all[0]!
  const hash = layout.show.hash ? all[1]! : null
  return { pos, hash, rest: all.slice(layout.show.hash ? 2 : 1) }
}

export const ColumnHeads = ({ layout }: { readonly layout: Layout }): ReactNode => {
  const { pos, hash, rest } = split(
    layout,
    cells(layout, {
      pos: "#",
      hash: "cell",
      axes: layout.axes.map((a) => a.name),
      tok: "tok/s ±95% CI",
      t10k: "T10k s",
      vram: "VRAM MiB",
      j: "J/token"
    })
  )
  return h(
    Text,
    { bold: true, wrap: "truncate-end" },
    [pos, ...(hash === null ? [] : [hash]), "status".padEnd(STATUS_W), ...rest].join(" ")
  )
}

export const RowLine = ({ row, layout }: { readonly row: Row; readonly layout: Layout }): ReactNode => {
  const f = row.figures
  const { pos, hash, rest } = split(
    layout,
    cells(layout, {
      pos: row.position,
      hash: short(row.cellHash) + (row.repeat > 0 ? `#${row.repeat}` : ""),
      axes: layout.axes.map((a) => axisText(row.axisValues[a.name] ?? "")),
      tok: tokSText(f),
      t10k: num(f?.t10k_s ?? null, 2),
      vram: vramText(f),
      j: jText(f)
    })
  )
  const style = STATUS[row.status]
  const dim = row.status === "queued" || row.status === "resumed"
  const line = h(
    Text,
    { dimColor: dim, wrap: "truncate-end" },
    `${pos} ${hash === null ? "" : `${hash} `}`,
    h(Text, { color: style.color }, statusText(row).padEnd(STATUS_W)),
    ` ${rest.join(" ")}`
  )
  if (row.status !== "failed" && row.status !== "interrupted") return line
  const indent = " ".repeat(layout.position + 1)
  // The trainer's own message says why for the kinds it recognises; its stderr tail (often a
  // Python traceback) is shown only when it did not say why: a crash, a protocol error, a stall.
  const tail = TAIL_KINDS.has(row.failureKind ?? "") ? (row.stderrTail ?? "").split("\n").filter(Boolean).slice(-6) : []
  return h(
    Box,
    { flexDirection: "column" },
    line,
    row.message ? h(Text, { color: row.status === "failed" ? "red" : "yellow", wrap: "truncate-end" }, `${indent}${row.message}`) : null,
    ...tail.map((l, i) => h(Text, { key: i, dimColor: true, wrap: "truncate-end" }, `${indent}│ ${l}`))
  )
}
