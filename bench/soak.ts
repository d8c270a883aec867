// Soak: the CPU demo grid over three seeds (12 cells) with faults injected into the real trainer
// in a third of them (seed 43: oom, nan_loss, crash by exit code, garbage on stdout) and a trainer
// that writes 120 MB to stderr (seed 44, which must still succeed), run four times: SIGKILLs of
// the runner mid-cell (timed) and exactly inside the end of a run, between its status and its
// results (test/fixtures/inject/runner-hook.ts), then to the end. It passes when every cell ends
// succeeded or failed with a reason, no run is left `running` and none `succeeded` without its
// results row (checked after each kill too), no trainer or sampler outlives a killed runner, and
// the ledger's step and sample rows match the event files the runner kept for each run.
// Run it with `bash bench/soak` (about 12 min here).
import { DuckDBInstance } from "@duckdb/node-api"
import { execa } from "execa"
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { running as stillRunning, startTime } from "../src/proc.ts"

const root = resolve(import.meta.dirname, "..")
const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "tunegrid-soak-"))
const ledger = join(dir, "soak.duckdb")
// How each attempt ends: SIGKILL after so many seconds (mid-cell on this machine), SIGKILL right
// after the n-th run's `succeeded` status statement of that attempt (inside the end-of-run gap), or not at all.
type Attempt = { readonly killAfterS: number } | { readonly killInEndOfRun: number } | null
const attempts: Array<Attempt> = [{ killAfterS: 45 }, { killInEndOfRun: 2 }, { killAfterS: 60 }, null]
const env = {
  NO_COLOR: "1",
  PYTHONPATH: join(root, "test/fixtures/inject"),
  TUNEGRID_INJECT_DIR: dir,
  TUNEGRID_INJECT:
    "seed=43&batch_size=1&lr=0.003:oom@2,seed=43&batch_size=1&lr=0.01:nan@4,seed=43&batch_size=4&lr=0.003:exit@3,seed=43&batch_size=4&lr=0.01:garbage@1," +
    "seed=44&batch_size=4&lr=0.003:chatty@2"
}
const gapHook = (n: number) => ({
  NODE_OPTIONS: `--import ${join(root, "test/fixtures/inject/runner-hook.ts")}`,
  TUNEGRID_RUNNER_KILL: `UPDATE runs SET status = \\$2.*"succeeded"@${n}`
})
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

/** Trainers and samplers of this soak's runs still running (each run folder's processes.jsonl
 * lists them, with their start times against PID reuse). */
const soakProcesses = () => {
  const runs = join(dir, ".tunegrid", "runs")
  if (!existsSync(runs)) return []
  return readdirSync(runs).flatMap((run) => {
    const file = join(runs, run, "processes.jsonl")
    if (!existsSync(file)) return []
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { role: string; pid: number; start: string | null })
      .filter((c) => stillRunning(c.pid) && startTime(c.pid) === c.start)
      .map((c) => `${c.role} ${c.pid}`)
  })
}

const problems: Array<string> = []
const started = Date.now()
for (const [i, attempt] of attempts.entries()) {
  const sub = execa(process.execPath, args, {
    cwd: root,
    env: { ...env, ...(attempt && "killInEndOfRun" in attempt ? gapHook(attempt.killInEndOfRun) : {}) },
    reject: false,
    all: true
  })
  const timer = attempt && "killAfterS" in attempt ? setTimeout(() => sub.kill("SIGKILL"), attempt.killAfterS * 1000) : null
  const r = await sub
  if (timer) clearTimeout(timer)
  const summary = String(r.all)
    .split("\n")
    .filter((l) => /done:|grid demo/.test(l))
    .join(" | ")
  const how =
    attempt === null
      ? `exit ${r.exitCode}`
      : "killAfterS" in attempt
        ? `SIGKILLed after ${attempt.killAfterS} s`
        : `SIGKILLed inside the end of its run ${attempt.killInEndOfRun}`
  log(`attempt ${i + 1}: ${r.signal === "SIGKILL" ? how : `exit ${r.exitCode}`}${summary ? ` — ${summary}` : ""}`)
  if (attempt === null ? r.exitCode !== 0 : r.signal !== "SIGKILL")
    throw new Error(`attempt ${i + 1} did not end as planned (${how}):\n${String(r.all).slice(-3000)}`)
  if (attempt !== null) {
    // a killed runner's trainer and sampler die with it (lifeline.py), within a few seconds
    for (let waited = 0; waited < 5000 && soakProcesses().length > 0; waited += 100) await new Promise((done) => setTimeout(done, 100))
    const left = soakProcesses()
    if (left.length > 0) problems.push(`after attempt ${i + 1}: processes outlived the killed runner: ${left.join(", ")}`)
    const [gap] = await query(
      `SELECT count(*)::INT AS n FROM runs r WHERE status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM results x WHERE x.run_id = r.run_id)`
    )
    if (gap!.n !== 0) problems.push(`after attempt ${i + 1}: ${gap!.n} runs succeeded without a results row`)
  }
}
const seconds = (Date.now() - started) / 1000

// every cell's latest run: succeeded, or failed with a kind and a message
const cells =
  await query(`SELECT c.cell_hash, c.seed, arg_max(r.status, r.started_at) AS status, arg_max(r.error_kind, r.started_at) AS kind,
  arg_max(r.error_message, r.started_at) AS message FROM cells c JOIN runs r USING (cell_hash) GROUP BY ALL ORDER BY c.seed`)
const counts = await query(`SELECT status, count(*)::INT AS n FROM runs GROUP BY status ORDER BY status`)
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
    existsSync(join(runDir, file))
      ? readFileSync(join(runDir, file), "utf8")
          .split("\n")
          .filter((l) => l.includes(`"event":"${event}"`)).length
      : 0
  const steps = count("trainer.jsonl", "step")
  const samples = count("sampler.jsonl", "sample")
  // a SIGKILL can fall between the file append and the ledger write: one event at most
  const slack = r.status === "interrupted" ? 1 : 0
  const stepRows = Number(r.steps)
  const sampleRows = Number(r.samples)
  if (stepRows > steps || steps - stepRows > slack)
    problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}): ${r.steps} step rows, ${steps} step events`)
  if (sampleRows > samples || samples - sampleRows > slack)
    problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}): ${r.samples} sample rows, ${samples} sample events`)
  if ((r.status === "succeeded") !== (r.results === 1))
    problems.push(`run ${String(r.run_id).slice(0, 8)} (${r.status}) has ${r.results} results rows`)
  checked += 1
}
for (const view of ["run_summary", "table1", "table2", "failures"]) await query(`SELECT count(*) FROM ${view}`)

// the chatty trainer's 120 MB stayed in its file; the run kept a bounded tail and succeeded
const chatty = await query(`SELECT r.run_id, r.status, length(r.stderr_tail) AS tail FROM runs r JOIN cells c USING (cell_hash)
  WHERE c.seed = 44 AND (c.config->>'$.batchSize') = '4' AND (c.config->>'$.learningRate') = '0.003' AND r.status IN ('succeeded', 'failed')`)
if (chatty.length === 0) problems.push("the chatty-stderr cell has no finished run")
for (const c of chatty) {
  const size = statSync(join(dir, ".tunegrid", "runs", String(c.run_id), "stderr.log")).size
  if (c.status !== "succeeded" || Number(c.tail) > 64 * 1024 || size < 120 * 1024 * 1024) {
    problems.push(`chatty run ${String(c.run_id).slice(0, 8)}: ${c.status}, tail ${c.tail} chars, stderr.log ${size} bytes`)
  }
}

log(
  `${seconds.toFixed(0)} s for ${attempts.length} attempts; runs by status: ${counts.map((c) => `${c.n} ${c.status}`).join(", ")}; ${checked} runs checked against their event files`
)
for (const c of cells.filter((c) => c.status !== "succeeded"))
  log(`  seed ${c.seed} ${String(c.cell_hash).slice(0, 12)}: ${c.status}: ${c.kind}: ${String(c.message).slice(0, 100)}`)
if (problems.length > 0) {
  for (const p of problems) log(`FAIL ${p}`)
  process.exit(1)
}
log(
  `PASS: every cell succeeded or failed with a reason; ledger rows match the trainer's and sampler's events (ledger ${ledger}, ${readdirSync(join(dir, ".tunegrid", "runs")).length} run folders)`
)
