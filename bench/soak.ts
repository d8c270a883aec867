// Soak: the CPU demo grid over three seeds (12 cells) with faults injected into the real trainer
// in a third of them (seed 43: oom, nan_loss, crash by exit code, garbage on stdout), run three
// times with a SIGKILL of the runner in between. It passes when every cell ends succeeded or
// failed with a reason, no run is left `running`, and the ledger's step and sample rows match the
// event files the runner kept for each run. Run it with `bash bench/soak` (about 10 min here).
import { DuckDBInstance } from "@duckdb/node-api"
import { execa } from "execa"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "tunegrid-soak-"))
const ledger = join(dir, "soak.duckdb")
const killAfterS = [45, 60] // into the first and second attempts: mid-cell on this machine
const env = {
  NO_COLOR: "1",
  PYTHONPATH: join(root, "test/fixtures/inject"),
  TUNEGRID_INJECT_DIR: dir,
  TUNEGRID_INJECT: "seed=43&batch_size=1&lr=0.003:oom@2,seed=43&batch_size=1&lr=0.01:nan@4,seed=43&batch_size=4&lr=0.003:exit@3,seed=43&batch_size=4&lr=0.01:garbage@1"
}
const args = [join(root, "src/cli.ts"), "run", "experiments/demo.ts", "--no-tui", "--ledger", ledger, "--set", "seeds=[42,43,44]"]

const log = (text: string) => console.log(`${new Date().toISOString().slice(11, 19)} soak: ${text}`)

const query = async (sql: string) => {
  const db = await DuckDBInstance.create(ledger, { access_mode: "READ_ONLY" })
  const conn = await db.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

const started = Date.now()
for (const [attempt, killAt] of [...killAfterS, null].entries()) {
  const sub = execa(process.execPath, args, { cwd: root, env, reject: false, all: true })
  let killed = false
  const timer = killAt === null ? null : setTimeout(() => {
    killed = true
    sub.kill("SIGKILL")
  }, killAt * 1000)
  const r = await sub
  if (timer) clearTimeout(timer)
  const summary = String(r.all).split("\n").filter((l) => /done:|orphaned|grid demo/.test(l)).join(" | ")
  log(`attempt ${attempt + 1}: ${killed ? `SIGKILLed after ${killAt} s` : `exit ${r.exitCode}`}${summary ? ` — ${summary}` : ""}`)
  if (!killed && r.exitCode !== 0) throw new Error(`attempt ${attempt + 1} failed:\n${String(r.all).slice(-3000)}`)
  await new Promise((done) => setTimeout(done, 3000)) // orphaned children exit on their broken pipe
}
const seconds = (Date.now() - started) / 1000

// every cell's latest run: succeeded, or failed with a kind and a message
const cells = await query(`SELECT c.cell_hash, c.seed, arg_max(r.status, r.started_at) AS status, arg_max(r.error_kind, r.started_at) AS kind,
  arg_max(r.error_message, r.started_at) AS message FROM cells c JOIN runs r USING (cell_hash) GROUP BY ALL ORDER BY c.seed`)
const counts = await query(`SELECT status, count(*)::INT AS n FROM runs GROUP BY status ORDER BY status`)
const problems: Array<string> = []
if (cells.length !== 12) problems.push(`expected 12 cells with runs, found ${cells.length}`)
for (const c of cells) {
  const ok = c.status === "succeeded" || (c.status === "failed" && c.kind && c.message)
  if (!ok) problems.push(`cell ${String(c.cell_hash).slice(0, 12)} (seed ${c.seed}) ended ${c.status} ${c.kind ?? ""}`)
  if (c.seed !== 43 && c.status !== "succeeded") problems.push(`cell ${String(c.cell_hash).slice(0, 12)} without a fault did not succeed`)
}
const [running] = await query(`SELECT count(*)::INT AS n FROM runs WHERE status = 'running'`)
if (running!.n !== 0) problems.push(`${running!.n} runs left running`)

// rows vs the events the runner kept (it appends each event to the run's file, then writes it through)
const rows = await query(`SELECT r.run_id, r.status, (SELECT count(*)::INT FROM steps s WHERE s.run_id = r.run_id) AS steps,
  (SELECT count(*)::INT FROM samples s WHERE s.run_id = r.run_id) AS samples, (SELECT count(*)::INT FROM results x WHERE x.run_id = r.run_id) AS results FROM runs r`)
let checked = 0
for (const r of rows) {
  const runDir = join(dir, ".tunegrid", "runs", String(r.run_id))
  const count = (file: string, event: string) =>
    existsSync(join(runDir, file)) ? readFileSync(join(runDir, file), "utf8").split("\n").filter((l) => l.includes(`"event":"${event}"`)).length : 0
  const steps = count("trainer.jsonl", "step")
  const samples = count("sampler.jsonl", "sample")
  // a SIGKILL can fall between the file append and the ledger write: one event at most
  const slack = r.status === "interrupted" ? 1 : 0
  const stepRows = Number(r.steps)
  const sampleRows = Number(r.samples)
  if (stepRows > steps || steps - stepRows > slack) problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}): ${r.steps} step rows, ${steps} step events`)
  if (sampleRows > samples || samples - sampleRows > slack) problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}): ${r.samples} sample rows, ${samples} sample events`)
  if ((r.status === "succeeded") !== (r.results === 1)) problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}) has ${r.results} results rows`)
  checked += 1
}
for (const view of ["run_summary", "table1", "table2", "failures"]) await query(`SELECT count(*) FROM ${view}`)

log(`${seconds.toFixed(0)} s for three attempts; runs by status: ${counts.map((c) => `${c.n} ${c.status}`).join(", ")}; ${checked} runs checked against their event files`)
for (const c of cells.filter((c) => c.status !== "succeeded")) log(`  seed ${c.seed} ${String(c.cell_hash).slice(0, 12)}: ${c.status}: ${c.kind}: ${String(c.message).slice(0, 100)}`)
if (problems.length > 0) {
  for (const p of problems) log(`FAIL ${p}`)
  process.exit(1)
}
log(`PASS: every cell succeeded or failed with a reason; ledger rows match the trainer's and sampler's events (ledger ${ledger}, ${readdirSync(join(dir, ".tunegrid", "runs")).length} run folders)`)
