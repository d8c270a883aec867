// What a Slurm job's tasks have done: the run folders they wrote (read back from task.json,
// exit.json and the trainer's events), when a folder is complete enough to record, whether Slurm
// ended a task before its run did, and one row per planned run for `tunegrid slurm status`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { FolderVerdict } from "../ingest.ts"
import { attemptsOf, type SlurmJob } from "./job.ts"
import { taskKey, type TaskState } from "./parse.ts"
import type { TaskReport } from "./Slurm.ts"

/** One execution's folder under runs/, as `python -m tunegrid_trainer.batch --index` left it. */
export interface RunFolder {
  readonly name: string
  readonly index: number | null
  /** "<array job>_<task>" of the Slurm task that wrote it; null outside Slurm. */
  readonly key: string | null
  readonly jobId: string | null
  readonly restartCount: number
  readonly node: string | null
  /** The GPUs Slurm gave the task (SLURM_JOB_GPUS, else CUDA_VISIBLE_DEVICES) and the trainer's own GPU UUID. */
  readonly gpus: string | null
  readonly gpuUuid: string | null
  readonly tStart: number
  readonly exit: { readonly exitCode: number | null; readonly stoppedBy: string | null } | null
  /** Seconds since anything in the folder last changed. */
  readonly quietS: number
  /** The trainer's last word: "step 12 (window)", "finished window_complete", "failed oom: …". */
  readonly progress: string
}

const readJson = (path: string): Record<string, any> | null => {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, any>
  } catch {
    return null
  }
}

const trainerProgress = (path: string): { progress: string; gpuUuid: string | null } => {
  let progress = "no trainer event yet"
  let gpuUuid: string | null = null
  const text = existsSync(path) ? readFileSync(path, "utf8") : ""
  for (const line of text.split("\n")) {
    let e: Record<string, any>
    try {
      e = JSON.parse(line) as Record<string, any>
    } catch {
      continue // empty, or the line being written
    }
    if (e.event === "started") [progress, gpuUuid] = ["started", e.env?.gpu_uuid ?? null]
    if (e.event === "step") progress = `step ${e.step} (${e.phase})`
    if (e.event === "finished") progress = `finished ${e.reason}`
    if (e.event === "failed") progress = `failed ${e.kind}: ${String(e.message).split("\n")[0]}`
  }
  return { progress, gpuUuid }
}

export const readRunFolders = (runsDir: string, nowMs: number): Array<RunFolder> => {
  if (!existsSync(runsDir)) return []
  return readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && ["task.json", "cell.json"].some((f) => existsSync(join(runsDir, d.name, f))))
    .map((d) => {
      const path = join(runsDir, d.name)
      const task = readJson(join(path, "task.json"))
      const slurm = task?.slurm as Record<string, any> | null | undefined
      const exit = readJson(join(path, "exit.json"))
      const lastChange = Math.max(...readdirSync(path).map((f) => statSync(join(path, f)).mtimeMs))
      const { progress, gpuUuid } = trainerProgress(join(path, "trainer.jsonl"))
      return {
        name: d.name,
        index: typeof task?.index === "number" ? task.index : null,
        key: slurm?.array_job_id && slurm.array_task_id !== undefined ? taskKey(slurm.array_job_id, slurm.array_task_id) : null,
        jobId: slurm?.job_id ?? null,
        restartCount: Number(slurm?.restart_count ?? 0),
        node: slurm?.node ?? task?.host ?? null,
        gpus: slurm?.job_gpus ?? task?.cuda_visible_devices ?? null,
        gpuUuid,
        tStart: Number(task?.t_start ?? lastChange / 1000),
        exit: exit ? { exitCode: exit.exit_code ?? null, stoppedBy: exit.stopped_by ?? null } : null,
        quietS: (nowMs - lastChange) / 1000,
        progress
      }
    })
    .sort((a, b) => a.tStart - b.tStart)
}

const describe = (s: TaskState) => `${s.state}${s.exitCode ? `, exit ${s.exitCode}` : ""}${s.node ? `, node ${s.node}` : ""}`

/**
 * Whether a folder can be recorded now. exit.json is written last, so a folder with it is
 * complete. Without it (or when SIGTERM stopped the task), the run is Slurm's to explain: wait
 * while the task is still in the queue (or Slurm cannot be asked), then record it failed with
 * the state Slurm ended it with. A folder without exit.json must also have been quiet for
 * `settleS` seconds, since shared storage may show a node's last writes late.
 */
export const judgeFolder = (
  f: RunFolder,
  report: TaskReport | null,
  all: ReadonlyArray<RunFolder>,
  settleS: number,
  jobDir: string
): FolderVerdict => {
  if (f.exit !== null && f.exit.stoppedBy === null) return { record: true }
  if (f.key === null || report === null) return f.exit !== null && f.key === null ? { record: true } : { record: false }
  const requeuedLater = all.some((o) => o.jobId === f.jobId && o.restartCount > f.restartCount)
  const state = report.live.get(f.key) ?? report.ended.get(f.key) ?? null
  // A task pending again after it wrote this folder was requeued: this execution is over.
  const pendingAgain = report.live.get(f.key)?.state === "PENDING"
  const requeued = requeuedLater || pendingAgain || (state?.restarts != null && state.restarts > f.restartCount)
  if (!requeued && report.live.has(f.key)) return { record: false }
  if (f.exit === null && f.quietS < settleS) return { record: false }
  const slurmState = requeued ? (state?.earlier[f.restartCount] ?? "REQUEUED") : (state?.state ?? null)
  const stop = f.exit?.stoppedBy
    ? `; the task got ${f.exit.stoppedBy} and stopped the trainer`
    : "; its run folder has no exit.json (killed before it could write one)"
  const said = requeued
    ? `Slurm requeued array task ${f.key} (execution ${f.restartCount}, job ${f.jobId}) before the run finished: ${slurmState}`
    : state
      ? `Slurm ended array task ${f.key} (job ${f.jobId}) with state ${describe(state)} (${state.source}) before the run finished`
      : `array task ${f.key} (job ${f.jobId}) left the queue before the run finished and Slurm keeps no record of how (${report.sources})`
  return {
    record: true,
    killed: {
      kind: `slurm_${(slurmState ?? "ended").toLowerCase()}`,
      message: `${said}${stop}; ${requeued ? "Slurm runs the task again" : `\`tunegrid slurm resubmit ${jobDir} --failed\` runs the cell again`}`,
      detail: JSON.stringify({ task: f.key, job_id: f.jobId, restart: f.restartCount, node: f.node, gpus: f.gpus, state: state ?? null })
    }
  }
}

/** One planned run (array slot) as `tunegrid slurm status` shows it. */
export interface TaskRow {
  readonly slot: number
  readonly spec: string
  /** The cell's label, else its axis values. */
  readonly cell: string
  /** Latest array task that ran it ("<array job>_<task>"), its state and where that came from;
   * attempts: its executions (submissions, or run folders where Slurm requeued it). */
  readonly task: string | null
  readonly state: string
  readonly source: string | null
  readonly attempts: number
  readonly node: string | null
  readonly gpus: string | null
  readonly gpuUuid: string | null
  readonly runId: string | null
  readonly progress: string | null
}

export const taskRows = (
  job: SlurmJob,
  plan: ReadonlyArray<{ readonly spec: string; readonly cell: string }>,
  folders: ReadonlyArray<RunFolder>,
  report: TaskReport | null
): Array<TaskRow> =>
  plan.map(({ spec, cell }, slot) => {
    const attempts = attemptsOf(job, slot)
    const key = attempts.at(-1)?.key ?? null
    const own = folders.filter((f) => f.index === slot)
    const folder = own.at(-1) ?? null
    const known = key === null ? null : (report?.live.get(key) ?? report?.ended.get(key) ?? null)
    const state =
      key === null
        ? "NOT SUBMITTED"
        : known
          ? known.state
          : report === null
            ? "UNKNOWN (Slurm not reachable)"
            : folder?.key === key && folder.exit
              ? "ENDED"
              : "ENDED (no record left)"
    return {
      slot,
      spec,
      cell,
      task: key,
      state,
      source: known?.source ?? (folder?.key === key && folder?.exit ? "run folder" : null),
      attempts: Math.max(attempts.length, own.length),
      node: known?.node ?? folder?.node ?? null,
      gpus: folder?.gpus ?? null,
      gpuUuid: folder?.gpuUuid ?? null,
      runId: folder?.name ?? null,
      progress: folder === null ? null : `${folder.progress}${folder.exit?.stoppedBy ? ` (stopped by ${folder.exit.stoppedBy})` : ""}`
    }
  })

/** Planned runs to run again: not succeeded (by the ledger's status of their runs) and with no
 * task of theirs still pending or running. A slot that never ran at all counts. */
export const slotsToResubmit = (
  job: SlurmJob,
  folders: ReadonlyArray<RunFolder>,
  report: TaskReport,
  statuses: ReadonlyMap<string, string>
) =>
  Array.from({ length: job.tasks }, (_, slot) => slot).filter(
    (slot) =>
      !folders.some((f) => f.index === slot && statuses.get(f.name) === "succeeded") &&
      !attemptsOf(job, slot).some((a) => report.live.has(a.key))
  )
