// Slurm end to end on real one-node clusters (test/slurm/cluster.sh: slurmctld + slurmd + munged).
// On one without accounting and with MaxArraySize 3 (four runs need two arrays): the CPU grid
// test/slurm/tiny.ts submitted, watched, collected while its tasks run, and the ledger compared
// with what `tunegrid run` records for the same grid. On a second one, with slurmdbd where it is
// installed (so sacct answers): a task cancelled mid-run, recorded failed with Slurm's state, and
// resubmitted until the grid is complete. Skipped only where Slurm is not installed.
import { execa, execaSync } from "execa"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cli as runCli, noPython, query, root, tempDir } from "../faults/harness.ts"

const installed = (tool: string) =>
  execaSync("bash", ["-c", `PATH="$PATH:/usr/sbin:/sbin" command -v ${tool}`], { reject: false }).exitCode === 0
const accounting = installed("slurmdbd") && installed("mariadbd")

const dir = tempDir("slurm")
const cluster = (name: string, env: Record<string, string>) => ({
  dir: join(dir, name),
  env: { SLURM_CONF: join(dir, name, "slurm.conf"), ...env }
})
type Cluster = ReturnType<typeof cluster>
const main = cluster("cluster", { TUNEGRID_SLURM_MAX_ARRAY_SIZE: "3" })
const acct = cluster("cluster-acct", { TUNEGRID_SLURM_ACCOUNTING: accounting ? "1" : "0" })
const clusterSh = (action: "start" | "stop", c: Cluster) =>
  execa("bash", [join(root, "test/slurm/cluster.sh"), action, c.dir], { reject: false, env: c.env })
const cli = (args: Array<string>, c: Cluster = main) => runCli(args, c.env, { timeout: 600_000 })

const missing = ["slurmctld", "slurmd", "munged", "sbatch"].filter((t) => !installed(t))
const skip =
  missing.length > 0
    ? `skipped: ${missing.join(", ")} not installed (apt-get install slurm-wlm munge; .ci/run does)`
    : noPython
      ? "skipped: no trainer Python (npm run setup:python)"
      : null

type Status = {
  tasks: Array<{ slot: number; task: string | null; state: string; progress: string | null; runId: string | null }>
  sources: string
}
const status = async (job: string, c: Cluster = main): Promise<Status> => {
  const r = await cli(["slurm", "status", job, "--json"], c)
  expect(r.exitCode, String(r.stderr)).toBe(0)
  return JSON.parse(String(r.stdout)) as Status
}
const ended = (state: string) => !/^(PENDING|RUNNING|COMPLETING|CONFIGURING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT)/.test(state)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Collect every 2 s until every task has ended and a last collect is done; whether any collect
 * had to leave a running task's folder for later. */
const collectUntilDone = async (job: string, ledger: string, c: Cluster = main) => {
  let sawWaiting = false
  for (let i = 0; i < 300; i++) {
    const done = (await status(job, c)).tasks.every((t) => ended(t.state))
    const r = await cli(["slurm", "collect", job, "--ledger", ledger], c)
    expect(r.exitCode, String(r.stderr)).toBe(0)
    if (/of running tasks left for later/.test(String(r.stdout))) sawWaiting = true
    if (done) return { sawWaiting, last: String(r.stdout) }
    await sleep(2000)
  }
  throw new Error(`${job}: tasks did not end`)
}

const mainJob = join(dir, "job")
const mainLedger = join(dir, "slurm.duckdb")
const liveLedger = join(dir, "live.duckdb")
let live: ReturnType<typeof cli>

describe.skipIf(skip !== null)(`tunegrid slurm on a real one-node Slurm${skip ? ` (${skip})` : ""}`, () => {
  beforeAll(async () => {
    const up = await clusterSh("start", main)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
    // What `run` records for the same grid, on the same machine, while Slurm runs it.
    live = cli(["run", "test/slurm/tiny.ts", "--no-tui", "--ledger", liveLedger])
  }, 120_000)

  afterAll(async () => {
    await clusterSh("stop", main)
    await clusterSh("stop", acct)
  }, 120_000)

  it("names options the cluster refuses before it writes or submits anything", async () => {
    const r = await cli(["slurm", "submit", "test/slurm/tiny.ts", "--dir", join(dir, "refused"), "--partition", "nope"])
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toMatch(
      /the cluster refuses these sbatch options \(.*--partition=nope.*\): sbatch: error: invalid partition specified: nope/
    )
    expect(existsSync(join(dir, "refused"))).toBe(false)
  }, 60_000)

  it("submits one task per planned run, in arrays no longer than MaxArraySize", async () => {
    const r = await cli(["slurm", "submit", "test/slurm/tiny.ts", "--dir", mainJob])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(String(r.stdout)).toContain("MaxArraySize 3")
    const record = JSON.parse(readFileSync(join(mainJob, "tunegrid-slurm.json"), "utf8"))
    expect(record.tasks).toBe(4)
    expect(record.submissions.map((s: { offset: number; taskIds: Array<number> }) => [s.offset, s.taskIds])).toEqual([
      [0, [0, 1, 2]],
      [3, [0]]
    ])
    // the grid's slurm block: its time limit and parallelism; a CPU grid asks for no GPU
    expect(record.submissions[0].argv).toEqual(expect.arrayContaining(["--time=10:00", "--array=0-2%2"]))
    expect(record.submissions[0].argv.some((a: string) => a.startsWith("--gres"))).toBe(false)
    expect(readdirSync(join(mainJob, "plan")).filter((f) => f !== "manifest.json")).toHaveLength(4)

    const s = await status(mainJob)
    expect(s.sources).toMatch(/^squeue \+ scontrol show job .*sacct unavailable: AccountingStorageType=accounting_storage\/none/)
    const jobs = record.submissions.map((x: { jobId: string }) => x.jobId)
    expect(s.tasks.map((t) => t.task)).toEqual([`${jobs[0]}_0`, `${jobs[0]}_1`, `${jobs[0]}_2`, `${jobs[1]}_0`])
  }, 120_000)

  it("collects while tasks run, and the ledger then holds what `run` records", async () => {
    const { sawWaiting } = await collectUntilDone(mainJob, mainLedger)
    expect(sawWaiting).toBe(true) // some collect met a folder still being written, and left it
    expect((await status(mainJob)).tasks.map((t) => t.state)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"])
    const again = await cli(["slurm", "collect", mainJob, "--ledger", mainLedger])
    expect(String(again.stdout)).toContain("collected 0 runs (4 already in the ledger)")
    const ran = await live
    expect(ran.exitCode, String(ran.stderr)).toBe(0)

    const same = async (sql: string) => {
      const [a, b] = [await query(liveLedger, sql), await query(mainLedger, sql)]
      expect(b.length).toBeGreaterThan(0)
      expect(b).toEqual(a)
    }
    await same(`SELECT grid_hash, name, source_hash, definition::VARCHAR AS d FROM grids`)
    await same(`SELECT cell_hash, label, config::VARCHAR AS config, seed, measure::VARCHAR AS measure, axis_values::VARCHAR AS axes,
      trainer_digest, dataset_digest FROM cells ORDER BY cell_hash`)
    await same(
      `SELECT cell_hash, repeat, seed, status, finish_reason, error_kind, env_hash, grid_hash, sentinel FROM runs ORDER BY cell_hash, repeat`
    )
    // deterministic cells: the same batches and bit-identical losses, step by step
    await same(`SELECT r.cell_hash, r.repeat, s.step, s.tokens, s.padded_tokens, s.samples, s.loss, s.lr, s.phase
      FROM steps s JOIN runs r USING (run_id) ORDER BY 1, 2, 3`)
    // results come from ledger/results.sql in both: the same cut and counts, and the same figures present
    // (steady and its reason follow the measured CI, which a 3-step CPU window sets by timing alone)
    await same(`SELECT cell_hash, r.repeat, steady_reason IS NOT NULL AS has_reason, steps_total, warmup_steps, window_steps, tokens_window, padded_tokens_window,
      loss_first, loss_last, flops_per_token, warmup_method, window_method, energy_method, tok_s > 0 AS has_tok_s
      FROM results JOIN runs r USING (run_id, cell_hash) ORDER BY 1, 2`)
    // (t10k_ci_high_s is null whenever the tok/s interval reaches 0, which a 3-step CPU window may or may not do)
    const filled = async (ledger: string) =>
      (await query(ledger, `SELECT * EXCLUDE (run_id, t10k_ci_high_s) FROM results ORDER BY cell_hash, tokens_total`)).map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null]))
      )
    expect(await filled(mainLedger)).toEqual(await filled(liveLedger))
    expect(await query(mainLedger, `SELECT DISTINCT origin FROM runs`)).toEqual([{ origin: "ingest" }])
  }, 900_000)

  it("records a task cancelled mid-run as failed with Slurm's state, and resubmission completes the grid", async () => {
    await clusterSh("stop", main) // its work is done: the CPUs go to the second cluster
    const up = await clusterSh("start", acct)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
    const c = acct
    const job = join(dir, "killed")
    const ledger = join(dir, "killed.duckdb")
    // one run whose window is longer than its 25 s limit, so it is mid-run for a while and a rerun ends
    const r = await cli(
      [
        "slurm",
        "submit",
        "test/slurm/tiny.ts",
        "--dir",
        job,
        "--set",
        "repeats=1",
        "--set",
        "axes.batchSize=[1]",
        "--set",
        "measure.window=400 steps",
        "--set",
        "measure.maxDuration=25s"
      ],
      c
    )
    expect(r.exitCode, String(r.stderr)).toBe(0)
    let task: Status["tasks"][number] | undefined
    for (let i = 0; i < 300 && !task?.progress?.endsWith("(window)"); i++) {
      await sleep(1000)
      task = (await status(job, c)).tasks[0]
    }
    expect(task?.progress, "the task never reached its window").toMatch(/\(window\)$/)
    await execa("scancel", [task!.task!], { env: c.env })

    const { last } = await collectUntilDone(job, ledger, c)
    expect(last).toMatch(/recorded run \w+: failed|collected 0 runs \(1 already/)
    const [killed] = await query(ledger, `SELECT run_id, status, error_kind, error_message, finish_reason FROM runs`)
    expect(killed).toMatchObject({ run_id: task!.runId, status: "failed", error_kind: "slurm_cancelled", finish_reason: "stop_requested" })
    expect(String(killed!.error_message)).toContain(`Slurm ended array task ${task!.task} `)
    expect(String(killed!.error_message)).toContain("with state CANCELLED")
    const after = await status(job, c)
    expect(after.tasks[0]).toMatchObject({ state: "CANCELLED", progress: "finished stop_requested (stopped by SIGTERM)" })
    // with accounting the state comes from sacct; without, from scontrol, and status says which
    expect(after.sources).toMatch(accounting ? /^squeue \+ sacct$/ : /scontrol show job/)
    expect(String(killed!.error_message)).toContain(accounting ? "(sacct)" : "(scontrol)")
    // plain `tunegrid ingest` of the same folders knows nothing of Slurm: a stopped run is interrupted
    const plain = await cli(["ingest", join(job, "runs"), "--ledger", join(dir, "plain.duckdb")], c)
    expect(plain.exitCode, String(plain.stderr)).toBe(0)
    expect(await query(join(dir, "plain.duckdb"), `SELECT run_id, status FROM runs`)).toEqual([
      { run_id: task!.runId, status: "interrupted" }
    ])

    const again = await cli(["slurm", "resubmit", job, "--failed", "--ledger", ledger], c)
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(String(again.stdout)).toMatch(/resubmitted runs 0 as array job \d+/)
    await collectUntilDone(job, ledger, c)
    const runs = await query(ledger, `SELECT status, error_kind, finish_reason FROM runs ORDER BY started_at`)
    expect(runs).toEqual([
      { status: "failed", error_kind: "slurm_cancelled", finish_reason: "stop_requested" },
      { status: "succeeded", error_kind: null, finish_reason: "max_seconds" }
    ])
    const done = await cli(["slurm", "resubmit", job, "--failed", "--ledger", ledger], c)
    expect(String(done.stdout)).toContain("nothing to resubmit")
  }, 900_000)
})
