// `tunegrid plot --out <dir>`: the study's three figures from the ledger's cell_summary view —
// throughput (tok/s), seconds per 10k tokens and J/token, one bar per configuration with its 95%
// interval — as SVG, and as PNG too when rsvg-convert is installed.
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Ledger } from "../ledger/Ledger.ts"
import { barChart, type Bar } from "../plot/svg.ts"
import { withReadOnly } from "./report.ts"
import { ledgerFlag } from "./shared.ts"

const figures = [
  { file: "throughput", title: "Throughput (steady window, real tokens)", yLabel: "tokens / s", value: "tok_s_mean", low: "tok_s_ci_low", high: "tok_s_ci_high", empty: "no succeeded runs" },
  { file: "t10k", title: "Seconds per 10k tokens", yLabel: "s / 10k tokens", value: "t10k_mean", low: "t10k_ci_low", high: "t10k_ci_high", empty: "no succeeded runs" },
  { file: "j_per_token", title: "Energy per token (measured)", yLabel: "J / token", value: "j_per_token_mean", low: "j_per_token_ci_low", high: "j_per_token_ci_high", empty: "energy not measured (no GPU energy counter or power samples in these runs)" }
] as const

const hasRsvg = () => {
  try {
    execFileSync("rsvg-convert", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null)

export const plotCommand = Command.make("plot", {
  out: Flag.String("out").pipe(Flag.withDefault("plots"), Flag.withDescription("Folder for the figures (default ./plots)")),
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const rows = yield* l.rows(`SELECT * FROM cell_summary ORDER BY grid, cell, config_id`)
    const labels = rows.map((r) => `${String(r.cell)}${new Set(rows.map((x) => x.cell)).size < rows.length ? ` ${String(r.config_id).slice(0, 6)}` : ""}`)
    mkdirSync(o.out, { recursive: true })
    const png = hasRsvg()
    for (const f of figures) {
      const bars: Array<Bar> = rows.map((r, i) => ({ label: labels[i]!, value: num(r[f.value]), low: num(r[f.low]), high: num(r[f.high]), n: Number(r.n) }))
      const path = join(o.out, `${f.file}.svg`)
      writeFileSync(path, barChart({ title: f.title, yLabel: f.yLabel, bars, emptyNote: f.empty }))
      yield* Console.log(`wrote ${path}`)
      if (png) {
        execFileSync("rsvg-convert", ["-o", join(o.out, `${f.file}.png`), path])
        yield* Console.log(`wrote ${join(o.out, `${f.file}.png`)}`)
      }
    }
    if (!png) yield* Console.log("PNG: no renderer found (install rsvg-convert from librsvg to get PNGs next to the SVGs)")
  }))
).pipe(Command.withDescription("Write the study's figures (tok/s, s per 10k tokens, J/token, with 95% error bars) as SVG (PNG with rsvg-convert)"))
