// Issue 20's table from one ledger of experiments/trainers-qwen1.5b.ts: per trainer cell, tok/s
// with its 95% CI, J/token, VRAM peak (NVML) and torch's, then each cell against the HF Trainer
// cell — on paired steps (`paired_runs`: same samples at the same step, ratio with its 95% CI)
// where the two runs share window steps with equal tokens, else as the ratio of the two window
// rates (the levers cell fills its steps differently). Every figure is read from the ledger.
//
//   node bench/trainers-table.ts trainers.duckdb [--ref hf]
import { DuckDBInstance } from "@duckdb/node-api"

const fmt = (x: unknown, digits = 0) =>
  typeof x !== "number" || Number.isNaN(x)
    ? "—"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const main = async (argv: Array<string>) => {
  const file = argv.find((a) => !a.startsWith("--"))
  const ref = argv.includes("--ref") ? argv[argv.indexOf("--ref") + 1]! : "hf"
  if (!file) throw new Error("usage: node bench/trainers-table.ts <ledger.duckdb> [--ref hf]")
  const db = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" })
  const conn = await db.connect()
  const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
  const runs = await rows(`SELECT c.label, r.run_id, t.tok_s, t.tok_s_ci_half, t.j_per_token, t.vram_peak_mib, t.torch_peak_allocated_mib,
      t.steady, t.window_steps FROM runs r JOIN cells c USING (cell_hash) JOIN results t USING (run_id)
    WHERE r.status = 'succeeded' ORDER BY r.started_at`)
  const base = runs.find((r) => r.label === ref)
  console.log(`| cell | tok/s (95% CI) | J/token | VRAM peak MiB (NVML / torch) | steady | vs ${ref} | how |`)
  console.log("| --- | --- | --- | --- | --- | --- | --- |")
  for (const r of runs) {
    let ratio = "—"
    let how = ""
    if (base && r !== base) {
      try {
        const [p] = await rows(`SELECT * FROM paired_runs('${String(base.run_id)}', '${String(r.run_id)}')`)
        ratio = `${fmt(p!.ratio, 3)} (${fmt(p!.ratio_ci_low, 3)}–${fmt(p!.ratio_ci_high, 3)})`
        how = `paired, ${String(p!.paired_steps)} steps (${String(p!.mismatched_steps)} mismatched)`
      } catch {
        ratio = fmt(Number(r.tok_s) / Number(base.tok_s), 3)
        how = "window rates (no step with equal tokens)"
      }
    }
    const ci = typeof r.tok_s_ci_half === "number" ? ` ±${fmt((100 * r.tok_s_ci_half) / Number(r.tok_s), 1)}%` : ""
    console.log(
      `| ${String(r.label)} | ${fmt(r.tok_s)}${ci} | ${fmt(r.j_per_token, 4)} | ${fmt(r.vram_peak_mib)} / ${fmt(r.torch_peak_allocated_mib)} | ${String(r.steady)} | ${ratio} | ${how} |`
    )
  }
  conn.closeSync()
  db.closeSync()
}

await main(process.argv.slice(2))
