// Submitting a grid as Slurm job arrays (plan into the job folder, one `sbatch --array` per
// block the cluster's MaxArraySize allows) and resubmitting the planned runs that did not
// succeed. Every array job is written to tunegrid-slurm.json as soon as sbatch accepts it.
import { Effect } from "effect"
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { repoRoot } from "../cells.ts"
import { loadGrid } from "../grid/load.ts"
import { writePlan } from "../ingest.ts"
import { runStatuses } from "../ledger/runs.ts"
import { collect } from "./collect.ts"
import { arrayChunks, batchScript, jobPaths, SlurmJobError, writeJob, type SlurmJob, type Submission } from "./job.ts"
import { arrayArg, flagProblems, resolveOptions, type SlurmFlags } from "./options.ts"
import { formatIndexList, type ClusterConfig } from "./parse.ts"
import { Slurm } from "./Slurm.ts"
import { slotsToResubmit } from "./tasks.ts"

const refuse = (problems: ReadonlyArray<string>) =>
  problems.length > 0 ? Effect.fail(new SlurmJobError({ message: problems.join("\n") })) : Effect.void

/** Submit these slots in as few arrays as the cluster allows, recording each as it is accepted. */
const submitSlots = Effect.fnUntraced(function* (
  dir: string,
  job: SlurmJob,
  slots: ReadonlyArray<number>,
  config: ClusterConfig,
  extra: { sbatch: ReadonlyArray<string>; parallel: number | null; reason: Submission["reason"] }
) {
  if (config.maxArraySize < 1)
    return yield* new SlurmJobError({ message: "job arrays are disabled on this cluster (MaxArraySize=0 in `scontrol show config`)" })
  const slurm = yield* Slurm
  let current = job
  const made: Array<Submission> = []
  for (const chunk of arrayChunks(slots, config)) {
    const argv = [
      ...job.sbatch,
      ...extra.sbatch,
      arrayArg(formatIndexList(chunk.taskIds), extra.parallel ?? undefined),
      jobPaths(dir).script,
      String(chunk.offset)
    ]
    const jobId = yield* slurm.submit(argv)
    const submission: Submission = {
      jobId,
      offset: chunk.offset,
      taskIds: chunk.taskIds,
      at: new Date().toISOString(),
      reason: extra.reason,
      argv
    }
    current = { ...current, submissions: [...current.submissions, submission] }
    writeJob(dir, current)
    made.push(submission)
  }
  return { job: current, made }
})

export interface SubmitOptions {
  readonly gridPath: string
  readonly overrides: ReadonlyArray<string>
  readonly dir: string
  readonly flags: SlurmFlags
  /** The trainer's interpreter as the compute nodes see it. */
  readonly python: string
  readonly tokenizerDir: string | null
  readonly samplerMode: string
}

export const submit = Effect.fnUntraced(function* (o: SubmitOptions) {
  const dir = resolve(o.dir)
  const paths = jobPaths(dir)
  yield* refuse(flagProblems(o.flags))
  if (existsSync(paths.record)) {
    return yield* new SlurmJobError({
      message: `${dir} already holds a Slurm job (tunegrid-slurm.json); use \`tunegrid slurm resubmit ${o.dir}\`, or another --dir`
    })
  }
  const loaded = yield* loadGrid(o.gridPath, o.overrides)
  yield* refuse(flagProblems({ sbatch: loaded.def.slurm?.sbatch ?? [] }).map((p) => p.replace("--sbatch", `${o.gridPath}: slurm.sbatch`)))
  const slurm = yield* Slurm
  const config = yield* slurm.config
  const cpuOnly = loaded.expansion.cells.every((c) => c.config.device === "cpu")
  const resolved = resolveOptions(loaded.def.slurm, o.flags, { name: loaded.def.name, logs: paths.logs, cpuOnly })
  yield* slurm.check([...resolved.sbatch, arrayArg("0", resolved.options.parallel)]) // before anything is written
  const notes = [
    ...resolved.notes,
    ...(loaded.def.measure?.sentinel
      ? [
          "measure.sentinel: Slurm runs the tasks in any order and several at once, so drift between sentinel runs says little about order effects here"
        ]
      : []),
    // exclusive is the local pool's (src/pool.ts); Slurm's own is a node to the job
    ...(loaded.expansion.cells.some((c) => c.exclusive)
      ? ["cells' exclusive: not applied by Slurm (each task is its own job); add --sbatch=--exclusive to have each task alone on its node"]
      : [])
  ]
  for (const p of [paths.plan, paths.runs, paths.logs]) mkdirSync(p, { recursive: true })
  const manifest = writePlan(loaded, paths.plan, o.tokenizerDir)
  copyFileSync(resolve(paths.plan, "manifest.json"), resolve(paths.runs, "manifest.json")) // `tunegrid ingest runs/` works too, once no task runs
  writeFileSync(
    paths.script,
    batchScript({
      gridName: loaded.def.name,
      repo: repoRoot,
      python: o.python,
      plan: paths.plan,
      runs: paths.runs,
      samplerMode: o.samplerMode
    }),
    { mode: 0o755 }
  )
  const job: SlurmJob = {
    version: 1,
    grid: loaded.file,
    gridName: loaded.def.name,
    tasks: manifest.runs.length,
    python: o.python,
    sbatch: resolved.sbatch,
    parallel: resolved.options.parallel ?? null,
    submissions: []
  }
  writeJob(dir, job)
  const slots = Array.from({ length: job.tasks }, (_, i) => i)
  const done = yield* submitSlots(dir, job, slots, config, { sbatch: [], parallel: job.parallel, reason: "submit" })
  return { ...done, config, notes, dir }
})

export interface ResubmitOptions {
  readonly dir: string
  /** Every planned run not succeeded and not pending or running; else exactly `slots`. */
  readonly failed: boolean
  readonly slots: ReadonlyArray<number>
  /** Options for these arrays only (a longer --time for tasks that timed out), after the job's own. */
  readonly flags: SlurmFlags
  readonly settleS: number
}

/** Collect first (statuses are the ledger's), then submit the runs that need another go. */
export const resubmit = Effect.fnUntraced(function* (o: ResubmitOptions) {
  const dir = resolve(o.dir)
  yield* refuse(flagProblems(o.flags))
  const collected = yield* collect(dir, o.settleS)
  const { job, report, unreachable, folders } = collected.seen
  if (report === null) return yield* new SlurmJobError({ message: `cannot ask Slurm which tasks still run: ${unreachable}` })
  const statuses = yield* runStatuses
  const candidates = slotsToResubmit(job, folders, report, statuses)
  const bad = o.slots.filter((s) => !Number.isInteger(s) || s < 0 || s >= job.tasks)
  if (bad.length > 0) return yield* new SlurmJobError({ message: `--task ${bad.join(", ")}: this job's tasks are 0 to ${job.tasks - 1}` })
  const busy = o.slots.filter((s) => !candidates.includes(s) && !folders.some((f) => f.index === s && statuses.get(f.name) === "succeeded"))
  if (busy.length > 0)
    return yield* new SlurmJobError({
      message: `--task ${busy.join(", ")}: still pending or running in Slurm (\`tunegrid slurm status ${o.dir}\`)`
    })
  const slots = o.failed ? candidates : [...o.slots]
  const slurm = yield* Slurm
  const config = yield* slurm.config
  const extra = resolveOptions(undefined, o.flags, { name: job.gridName, logs: jobPaths(dir).logs, cpuOnly: true }).sbatch.filter(
    (opt) => !/^--(job-name|output|open-mode)=/.test(opt)
  ) // the job's own; only what the flags add
  if (slots.length > 0) yield* slurm.check([...job.sbatch, ...extra, arrayArg("0", undefined)])
  const done =
    slots.length === 0
      ? { job, made: [] as Array<Submission> }
      : yield* submitSlots(dir, job, slots, config, { sbatch: extra, parallel: o.flags.parallel ?? job.parallel, reason: "resubmit" })
  return { ...done, slots, collected }
})
