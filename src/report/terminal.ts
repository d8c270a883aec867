// The default report in a terminal: per grid, one line per cell — its name, status, runs behind
// it, tok/s ± 95% CI, T10k, VRAM, J/token (measured only), steady — sized to the terminal's width
// (long names are shortened, then the least needed columns dropped), then warnings for noisy
// results, the failures, and the hyperfine-style closing lines. Pure: rows and a width in, text out.
import { printable } from "../printable.ts"
import type { Row } from "../ledger/Ledger.ts"
import { aligned, human } from "./format.ts"
import { CI_SANITY_BOUND } from "./noise.ts"
import type { Comparison } from "./summary.ts"
import { summaryLines } from "./summary.ts"

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : null)
const pct = (fraction: number) => `${fraction < 0.1 ? (100 * fraction).toFixed(1) : Math.round(100 * fraction)}%`

/** A cell's status from its run counts: "ok", "ok 2/3 · oom", "failed: oom", "interrupted", "skipped". */
export const statusText = (r: Row): string => {
  const [n, failed, interrupted, runs] = [num(r.n) ?? 0, num(r.failed) ?? 0, num(r.interrupted) ?? 0, num(r.runs) ?? 0]
  const kinds = r.error_kinds ? String(r.error_kinds).replace(/,/g, "+") : null
  if (n > 0)
    return n === runs
      ? "ok"
      : `ok ${n}/${runs}${kinds ? ` · ${kinds}` : interrupted ? " · interrupted" : num(r.skipped) ? " · skipped" : ""}`
  if (failed > 0) return `failed: ${kinds ?? "?"}`
  if (interrupted > 0) return "interrupted"
  return num(r.skipped) ? "skipped" : "—"
}

export const tokSText = (r: Row): string => {
  const mean = num(r.tok_s_mean)
  if (mean === null) return "—"
  const rel = num(r.tok_s_ci_rel)
  return rel === null ? `${human(mean)} (no CI)` : `${human(mean)} ±${pct(rel)}`
}

/** yes / no / noisy (CI wider than the sanity bound) / — (nothing measured). */
export const steadyText = (r: Row): string => {
  if (num(r.n) === 0 || r.steady === null || r.steady === undefined) return "—"
  if (r.reliable === false) return "noisy"
  return r.steady ? "yes" : "no"
}

interface Column {
  readonly head: string
  readonly values: Array<string>
  readonly numeric: boolean
  /** Dropped first when the terminal is too narrow: lower goes first; undefined is never dropped. */
  readonly dropOrder?: number
}

const shorten = (t: string, width: number) => (t.length <= width ? t : `${t.slice(0, Math.max(1, width - 1))}…`)

/** A cell name shortened in its middle: the label's start and the last axis=value pairs both stay
 * readable (a labelled cell expanded over axes differs only at its end). */
const shortenMiddle = (t: string, width: number) => {
  if (t.length <= width) return t
  const head = Math.max(1, Math.ceil((width - 1) / 2))
  const tail = Math.max(0, width - 1 - head)
  return `${t.slice(0, head)}…${tail === 0 ? "" : t.slice(-tail)}`
}

/** Word-wrap a line to `width`, continuation lines indented by `indent` spaces. */
export const wrap = (line: string, width: number, indent = 2): Array<string> => {
  if (line.length <= width) return [line]
  const lead = /^ */.exec(line)![0]
  const out: Array<string> = []
  let current = lead
  for (const word of line.slice(lead.length).split(" ")) {
    const next = current.trim() === "" ? `${current}${word}` : `${current} ${word}`
    if (next.length > width && current.trim() !== "") {
      out.push(current)
      current = `${" ".repeat(indent)}${word}`
    } else current = next
  }
  out.push(current)
  return out.flatMap((l) => (l.length > width ? [shorten(l, width)] : [l]))
}

const fit = (columns: Array<Column>, width: number): Array<Column> => {
  const total = (cs: ReadonlyArray<Column>) =>
    cs.reduce((s, c) => s + Math.max(c.head.length, ...c.values.map((v) => v.length)), 0) + 2 * (cs.length - 1)
  let cs = [...columns]
  const nameWidth = () => Math.max(cs[0]!.head.length, ...cs[0]!.values.map((v) => v.length))
  const shrinkName = (floor: number) => {
    const over = total(cs) - width
    if (over <= 0) return
    const target = Math.max(floor, nameWidth() - over)
    cs[0] = { ...cs[0]!, values: cs[0]!.values.map((v) => shortenMiddle(v, target)) }
  }
  shrinkName(20)
  const droppable = cs.filter((c) => c.dropOrder !== undefined).sort((a, b) => a.dropOrder! - b.dropOrder!)
  for (const c of droppable) {
    if (total(cs) <= width) break
    cs = cs.filter((x) => x !== c)
    shrinkName(20)
  }
  shrinkName(8)
  return cs
}

export interface TerminalReport {
  readonly cells: ReadonlyArray<Row>
  readonly comparisons: ReadonlyArray<Comparison>
  /** Extra sections already rendered for the terminal (measured vs published, fit frontier…). */
  readonly sections?: ReadonlyArray<string>
}

export const renderTerminal = (report: TerminalReport, width: number): string => {
  const out: Array<string> = []
  const grids = [...new Set(report.cells.map((r) => String(r.grid ?? "(no grid)")))]
  if (grids.length === 0) return "no runs in the ledger yet (tunegrid run <grid-file>)"
  const allNull = (key: string) => report.cells.every((r) => num(r[key]) === null)
  const unmeasured = [allNull("vram_peak_mib") ? "VRAM" : null, allNull("j_per_token_mean") ? "J/token" : null].filter((x) => x !== null)
  for (const grid of grids) {
    const rows = report.cells.filter((r) => String(r.grid ?? "(no grid)") === grid)
    const gpu = [...new Set(rows.map((r) => (r.gpu_name ? String(r.gpu_name) : "cpu")))].join(", ")
    out.push(...wrap(`grid ${printable(grid)} · ${rows.length} cell${rows.length === 1 ? "" : "s"} · ${gpu}`, width))
    const columns: Array<Column> = [
      { head: "cell", values: rows.map((r) => printable(String(r.cell ?? r.cell_hash ?? ""))), numeric: false },
      { head: "status", values: rows.map(statusText), numeric: false },
      { head: "n", values: rows.map((r) => String(num(r.n) ?? 0)), numeric: true, dropOrder: 2 },
      { head: "tok/s ±95% CI", values: rows.map(tokSText), numeric: true },
      {
        head: "T10k s",
        values: rows.map((r) => (num(r.t10k_mean) === null ? "—" : human(num(r.t10k_mean)!))),
        numeric: true,
        dropOrder: 1
      },
      ...(unmeasured.includes("VRAM")
        ? []
        : [
            {
              head: "VRAM MiB",
              values: rows.map((r) => (num(r.vram_peak_mib) === null ? "—" : String(Math.round(num(r.vram_peak_mib)!)))),
              numeric: true,
              dropOrder: 3
            }
          ]),
      ...(unmeasured.includes("J/token")
        ? []
        : [
            {
              head: "J/token",
              values: rows.map((r) => (num(r.j_per_token_mean) === null ? "—" : human(num(r.j_per_token_mean)!))),
              numeric: true,
              dropOrder: 4
            }
          ]),
      { head: "steady", values: rows.map(steadyText), numeric: false }
    ]
    const shown = fit(columns, width)
    out.push(
      aligned(
        shown.map((c) => c.head),
        rows.map((_, i) => shown.map((c) => c.values[i]!)),
        shown.map((c) => c.numeric),
        false
      )
    )
    const dropped = columns.filter((c) => !shown.some((x) => x.head === c.head)).map((c) => c.head)
    if (dropped.length > 0) out.push(...wrap(`(${dropped.join(", ")} left out to fit ${width} columns: tunegrid report --wide)`, width))
    out.push("")
  }
  const notes: Array<string> = []
  notes.push("± is the 95% CI: over the runs when n ≥ 2, else the run's own window (batch means).")
  if (unmeasured.length > 0) notes.push(`${unmeasured.join(" and ")} not measured in these runs (no GPU sampler or energy counter).`)
  out.push(...notes.flatMap((n) => wrap(n, width)))
  const noisy = report.cells.filter((r) => r.reliable === false)
  if (noisy.length > 0) {
    out.push(
      ...wrap(
        `warning: ${noisy.length} of ${report.cells.filter((r) => num(r.n)! > 0).length} measured cells have a tok/s CI wider than ±${Math.round(CI_SANITY_BOUND * 100)}% (noisy: not a measurement to compare). More window steps or repeats, or a quieter machine, narrow it.`,
        width
      )
    )
  }
  const unsteady = report.cells.filter((r) => r.reliable !== false && r.steady === false)
  for (const r of unsteady) out.push(...wrap(`not steady: ${printable(String(r.cell))}: ${String(r.unsteady_reasons ?? "")}`, width))
  const failed = report.cells.filter((r) => (num(r.failed) ?? 0) > 0)
  for (const r of failed)
    out.push(
      ...wrap(
        `failed: ${printable(String(r.cell))} (${String(r.error_kinds)}): ${printable(String(r.last_error ?? "").split("\n")[0]!)}`,
        width
      )
    )
  if (report.sections && report.sections.length > 0)
    out.push("", ...report.sections.flatMap((s) => s.split("\n").flatMap((l) => wrap(l, width))))
  const summary = summaryLines(report.comparisons)
  if (summary.length > 0) out.push("", "Summary", ...summary.flatMap((l) => wrap(l, width, 4)))
  return out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()
}
