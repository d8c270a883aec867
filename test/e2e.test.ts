// End to end: the real CLI runs experiments/demo.ts with the real Python trainer on the CPU into a
// real DuckDB file; a second run resumes (skips everything); the same runs recorded through
// `ingest` give the same results rows.
import { DuckDBInstance } from "@duckdb/node-api"
import { execa } from "execa"
import { cpSync, mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { findPython, PythonNotFound } from "../src/trainer/python.ts"

const root = resolve(import.meta.dirname, "..")
const cli = (args: Array<string>) =>
  execa(process.execPath, [join(root, "src/cli.ts"), ...args], { cwd: root, reject: false, env: { NO_COLOR: "1" }, timeout: 600_000 })

const query = async (ledger: string, sql: string) => {
  const db = await DuckDBInstance.create(ledger, { access_mode: "READ_ONLY" })
  const conn = await db.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS()
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

const python = findPython(null)
const dir = mkdtempSync(join(tmpdir(), "tunegrid-e2e-"))
const ledger = join(dir, "demo.duckdb")
let first: Awaited<ReturnType<typeof cli>>

describe.skipIf(python instanceof PythonNotFound)("tunegrid run experiments/demo.ts (real trainer, CPU)", () => {
  beforeAll(async () => {
    first = await cli(["run", "experiments/demo.ts", "--no-tui", "--ledger", ledger])
  }, 600_000)

  it("runs every cell to success and prints the report", () => {
    expect(first.exitCode, String(first.stderr)).toBe(0)
    expect(first.stdout).toMatch(/grid demo: 4 cells, 4 runs, 4 to run/)
    expect(first.stdout).toMatch(/^grid demo · 4 cells · cpu$/m) // the report: one line per cell
    expect(first.stdout).toMatch(/^learningRate=0\.003 batchSize=1 +ok +1 /m)
    expect(first.stdout.trim().split("\n").at(-1)).toMatch(/^finished: 4 succeeded — exit 0$/)
  })

  it("records runs, steps, samples and results in the ledger", async () => {
    const [counts] = await query(
      ledger,
      `SELECT
      (SELECT count(*) FROM runs WHERE status = 'succeeded')::INT AS succeeded,
      (SELECT count(*) FROM runs)::INT AS runs,
      (SELECT count(*) FROM results)::INT AS results,
      (SELECT count(*) FROM steps)::INT AS steps,
      (SELECT count(*) FROM samples)::INT AS samples,
      (SELECT count(*) FROM steps WHERE tokens <= 0 OR padded_tokens < tokens)::INT AS bad_steps,
      -- steady exactly when the CI is within the ±25% sanity bound (the demo sets no CI target)
      (SELECT count(*) FROM results WHERE tok_s > 0 AND window_steps = 12 AND warmup_steps = 3 AND steady = (tok_s_ci_rel <= 0.25))::INT AS good_results`
    )
    expect(counts).toMatchObject({ succeeded: 4, runs: 4, results: 4, steps: 60, bad_steps: 0, good_results: 4 })
    expect(counts!.samples).toBeGreaterThan(0)
  })

  it("trains: the loss goes down in every run", async () => {
    const rows = await query(
      ledger,
      `SELECT run_id,
      avg(loss) FILTER (WHERE step < 3) AS early, avg(loss) FILTER (WHERE step >= max_step - 2) AS late
      FROM (SELECT *, max(step) OVER (PARTITION BY run_id) AS max_step FROM steps) GROUP BY run_id`
    )
    expect(rows).toHaveLength(4)
    for (const r of rows) expect(Number(r.late)).toBeLessThan(Number(r.early))
  })

  it("a second run skips everything that already succeeded", async () => {
    const again = await cli(["run", "experiments/demo.ts", "--no-tui", "--ledger", ledger])
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(again.stdout).toMatch(/4 runs, 0 to run/)
    expect(again.stdout.match(/already succeeded in this environment/g)).toHaveLength(4)
    expect(await query(ledger, `SELECT count(*)::INT AS runs FROM runs`)).toEqual([{ runs: 4 }])
  }, 120_000)

  it("ingesting the same runs' event files gives the same results rows", async () => {
    const runsDir = join(dir, "ingest")
    const plan = await cli(["plan", "experiments/demo.ts", "--out", join(dir, "plan")])
    expect(plan.exitCode, String(plan.stderr)).toBe(0)
    cpSync(join(dir, "plan", "manifest.json"), join(runsDir, "manifest.json"))
    const artifacts = join(dir, ".tunegrid", "runs")
    for (const run of readdirSync(artifacts)) cpSync(join(artifacts, run), join(runsDir, run), { recursive: true })
    const ingested = join(dir, "ingested.duckdb")
    const r = await cli(["ingest", runsDir, "--ledger", ingested])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const cols = `run_id, cell_hash, env_hash, steady, steps_total, warmup_steps, window_steps, window_seconds, tokens_window, tok_s, t10k_s,
      vram_peak_mib, torch_peak_reserved_mib, energy_j, energy_method, j_per_token_est_95, loss_first, loss_last, flops_per_token`
    const live = await query(ledger, `SELECT ${cols} FROM results ORDER BY run_id`)
    const fromFiles = await query(ingested, `SELECT ${cols} FROM results ORDER BY run_id`)
    expect(fromFiles).toEqual(live)
  }, 120_000)
})
