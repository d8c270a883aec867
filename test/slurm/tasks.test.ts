// When the collector may record a run folder, and how: complete folders at once, folders of
// running tasks later, and folders of tasks Slurm ended (cancelled, timed out, requeued) as
// failed with Slurm's state. Also the status rows read back from real folders on disk.
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { TaskState } from "../../src/slurm/parse.ts"
import { observe } from "../../src/slurm/collect.ts"
import { Slurm, SlurmError, type TaskReport } from "../../src/slurm/Slurm.ts"
import { judgeFolder, readRunFolders, slotsToResubmit, type RunFolder } from "../../src/slurm/tasks.ts"
import { jobPaths, writeJob, type SlurmJob } from "../../src/slurm/job.ts"

const folder = (over: Partial<RunFolder> = {}): RunFolder => ({
  name: "run-a",
  index: 0,
  key: "12_0",
  jobId: "13",
  restartCount: 0,
  node: "gpu01",
  gpus: "3",
  gpuUuid: null,
  tStart: 1,
  exit: null,
  quietS: 0,
  progress: "step 40 (window)",
  ...over
})
const state = (over: Partial<TaskState> = {}): TaskState => ({
  arrayJobId: "12",
  taskId: 0,
  jobId: "13",
  state: "RUNNING",
  node: "gpu01",
  reason: null,
  exitCode: null,
  restarts: null,
  earlier: [],
  source: "squeue",
  ...over
})
const report = (live: Array<TaskState>, ended: Array<TaskState> = []): TaskReport => ({
  live: new Map(live.map((s) => [`${s.arrayJobId}_${s.taskId}`, s])),
  ended: new Map(ended.map((s) => [`${s.arrayJobId}_${s.taskId}`, s])),
  sources: "squeue + scontrol show job"
})

describe("which run folders the collector records", () => {
  it("records a folder with exit.json at once, whatever Slurm says", () => {
    expect(judgeFolder(folder({ exit: { exitCode: 0, stoppedBy: null } }), report([state()]), [], 60, "/j")).toEqual({ record: true })
    expect(judgeFolder(folder({ exit: { exitCode: 1, stoppedBy: null } }), null, [], 60, "/j")).toEqual({ record: true })
  })

  it("leaves a folder without exit.json while its task is in the queue, or when Slurm cannot be asked", () => {
    expect(judgeFolder(folder(), report([state()]), [], 60, "/j")).toEqual({ record: false })
    expect(judgeFolder(folder({ quietS: 3600 }), report([state({ state: "COMPLETING" })]), [], 60, "/j")).toEqual({ record: false })
    expect(judgeFolder(folder({ quietS: 3600 }), null, [], 60, "/j")).toEqual({ record: false })
    const stopped = folder({ exit: { exitCode: 0, stoppedBy: "SIGTERM" } })
    expect(judgeFolder(stopped, report([state({ state: "COMPLETING" })]), [], 60, "/j")).toEqual({ record: false })
  })

  it("records a task Slurm cancelled as failed with its state, once it left the queue", () => {
    const stopped = folder({ exit: { exitCode: 0, stoppedBy: "SIGTERM" } })
    const verdict = judgeFolder(stopped, report([], [state({ state: "CANCELLED", exitCode: "0:15", source: "sacct" })]), [], 60, "/j")
    expect(verdict.record && verdict.killed?.kind).toBe("slurm_cancelled")
    expect(verdict.record && verdict.killed?.message).toBe(
      "Slurm ended array task 12_0 (job 13) with state CANCELLED, exit 0:15, node gpu01 (sacct) before the run finished; the task got SIGTERM " +
        "and stopped the trainer; `tunegrid slurm resubmit /j --failed` runs the cell again"
    )
    expect(JSON.parse((verdict.record && verdict.killed?.detail) || "{}")).toMatchObject({ task: "12_0", node: "gpu01", gpus: "3" })
  })

  it("waits for a killed task's folder to settle on shared storage before recording it", () => {
    const gone = report([], [state({ state: "TIMEOUT", source: "scontrol" })])
    expect(judgeFolder(folder({ quietS: 5 }), gone, [], 60, "/j")).toEqual({ record: false })
    const verdict = judgeFolder(folder({ quietS: 61 }), gone, [], 60, "/j")
    expect(verdict.record && verdict.killed?.kind).toBe("slurm_timeout")
    expect(verdict.record && verdict.killed?.message).toContain("its run folder has no exit.json")
  })

  it("records an execution Slurm requeued as failed even while the task runs again", () => {
    const first = folder({ name: "run-a", restartCount: 0, quietS: 120 })
    const second = folder({ name: "run-b", restartCount: 1, tStart: 2 })
    const requeued = report([state({ restarts: null })])
    const verdict = judgeFolder(first, requeued, [first, second], 60, "/j")
    expect(verdict.record && verdict.killed?.kind).toBe("slurm_requeued")
    expect(judgeFolder(second, requeued, [first, second], 60, "/j")).toEqual({ record: false })
    // a task pending again after it wrote a folder was requeued, before its next execution starts
    const stopped = folder({ exit: { exitCode: 0, stoppedBy: "SIGTERM" } })
    const pending = judgeFolder(stopped, report([state({ state: "PENDING", reason: "BeginTime" })]), [stopped], 60, "/j")
    expect(pending.record && pending.killed?.kind).toBe("slurm_requeued")
    expect(pending.record && pending.killed?.message).toMatch(/Slurm runs the task again$/)
    // sacct --duplicates knows how the first execution ended
    const fromSacct = report([], [state({ state: "COMPLETED", restarts: 1, earlier: ["PREEMPTED"], source: "sacct" })])
    const v2 = judgeFolder(first, fromSacct, [first], 60, "/j")
    expect(v2.record && v2.killed?.kind).toBe("slurm_preempted")
  })

  it("says so when Slurm no longer remembers a task that left the queue", () => {
    const verdict = judgeFolder(folder({ quietS: 600 }), report([]), [], 60, "/j")
    expect(verdict.record && verdict.killed?.kind).toBe("slurm_ended")
    expect(verdict.record && verdict.killed?.message).toContain("Slurm keeps no record of how")
  })
})

describe("resubmission", () => {
  const job: SlurmJob = {
    version: 1,
    grid: "g.ts",
    gridName: "g",
    tasks: 4,
    python: "python",
    sbatch: [],
    parallel: null,
    submissions: [{ jobId: "12", offset: 0, taskIds: [0, 1, 2], at: "", reason: "submit", argv: [] }]
  }

  it("picks the runs that did not succeed and are not pending or running, and runs never submitted", () => {
    const folders = [folder({ name: "ok", index: 0 }), folder({ name: "bad", index: 1 }), folder({ name: "live", index: 2, key: "12_2" })]
    const statuses = new Map([
      ["ok", "succeeded"],
      ["bad", "failed"]
    ])
    expect(slotsToResubmit(job, folders, report([state({ taskId: 2 })]), statuses)).toEqual([1, 3])
  })
})

describe("status rows", () => {
  const dir = mkdtempSync(join(tmpdir(), "tunegrid-slurm-status-"))
  const paths = jobPaths(dir)
  const job: SlurmJob = {
    version: 1,
    grid: "g.ts",
    gridName: "g",
    tasks: 2,
    python: "python",
    sbatch: [],
    parallel: null,
    submissions: [{ jobId: "12", offset: 0, taskIds: [0, 1], at: "", reason: "submit", argv: [] }]
  }
  mkdirSync(paths.plan, { recursive: true })
  mkdirSync(join(paths.runs, "run-a"), { recursive: true })
  writeJob(dir, job)
  const cells = [
    { cellHash: "h0", label: null, axisValues: { batchSize: 1 } },
    { cellHash: "h1", label: "big", axisValues: { batchSize: 8 } }
  ]
  writeFileSync(
    join(paths.plan, "manifest.json"),
    JSON.stringify({
      cells,
      runs: [
        { file: "000-h0-r0.json", cellHash: "h0", runId: "p0", repeat: 0 },
        { file: "001-h1-r0.json", cellHash: "h1", runId: "p1", repeat: 0 }
      ]
    })
  )
  for (const f of ["000-h0-r0.json", "001-h1-r0.json"]) writeFileSync(join(paths.plan, f), "{}")
  writeFileSync(
    join(paths.runs, "run-a", "task.json"),
    JSON.stringify({
      index: 0,
      run_id: "run-a",
      planned_run_id: "p0",
      t_start: 5,
      cuda_visible_devices: "0",
      slurm: { job_id: "13", array_job_id: "12", array_task_id: "0", restart_count: 0, node: "gpu01", job_gpus: "3" }
    })
  )
  writeFileSync(join(paths.runs, "run-a", "cell.json"), "{}")
  writeFileSync(
    join(paths.runs, "run-a", "trainer.jsonl"),
    `{"event":"started","env":{"gpu_uuid":"GPU-abc"}}\n{"event":"step","step":7,"phase":"window"}\n{"event":"st`
  )

  const slurm = (tasks: SlurmShapeTasks) =>
    Slurm.layerTest({
      config: Effect.succeed({ maxArraySize: 1001, maxArrayTasks: null, accounting: "accounting_storage/none", minJobAgeS: 300 }),
      check: () => Effect.die("not in this test"),
      submit: () => Effect.die("not in this test"),
      tasks
    })
  type SlurmShapeTasks = Parameters<typeof Slurm.layerTest>[0]["tasks"]

  it("shows Slurm's state of each planned run's task beside what its run folder says", async () => {
    const seen = await Effect.runPromise(
      observe(dir).pipe(
        Effect.provide(
          slurm(() =>
            Effect.succeed(report([state()], [state({ taskId: 1, state: "FAILED", jobId: "14", node: "gpu02", source: "scontrol" })]))
          )
        )
      )
    )
    expect(seen.rows).toEqual([
      {
        slot: 0,
        spec: "000-h0-r0.json",
        cell: `{"batchSize":1}`,
        task: "12_0",
        state: "RUNNING",
        source: "squeue",
        attempts: 1,
        node: "gpu01",
        gpus: "3",
        gpuUuid: "GPU-abc",
        runId: "run-a",
        progress: "step 7 (window)"
      },
      {
        slot: 1,
        spec: "001-h1-r0.json",
        cell: "big",
        task: "12_1",
        state: "FAILED",
        source: "scontrol",
        attempts: 1,
        node: "gpu02",
        gpus: null,
        gpuUuid: null,
        runId: null,
        progress: null
      }
    ])
  })

  it("still shows the run folders when Slurm cannot be asked, and says why", async () => {
    const seen = await Effect.runPromise(
      observe(dir).pipe(Effect.provide(slurm(() => Effect.fail(new SlurmError({ message: "squeue not found" })))))
    )
    expect(seen.unreachable).toBe("squeue not found")
    expect(seen.rows.map((r) => [r.state, r.progress])).toEqual([
      ["UNKNOWN (Slurm not reachable)", "step 7 (window)"],
      ["UNKNOWN (Slurm not reachable)", null]
    ])
    expect(readRunFolders(paths.runs, Date.now())[0]).toMatchObject({ key: "12_0", exit: null, gpus: "3" })
  })
})
