// A Slurm job folder on shared storage: its layout (plan/, runs/, logs/, job.sbatch), its record
// (tunegrid-slurm.json: the plan's size, the sbatch options and every array job submitted), the
// batch script each task runs, and how planned runs map onto array tasks within MaxArraySize.
import { Effect, Schema } from "effect"
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { ClusterConfig } from "./parse.ts"

export class SlurmJobError extends Schema.TaggedError<SlurmJobError>()("SlurmJobError", { message: Schema.String }) {}

export const jobPaths = (dir: string) => ({
  record: join(dir, "tunegrid-slurm.json"),
  plan: join(dir, "plan"),
  runs: join(dir, "runs"),
  logs: join(dir, "logs"),
  script: join(dir, "job.sbatch")
})

/** One `sbatch --array`: planned run `offset + i` for each task id i. */
export interface Submission {
  readonly jobId: string
  readonly offset: number
  readonly taskIds: ReadonlyArray<number>
  readonly at: string
  readonly reason: "submit" | "resubmit"
  readonly argv: ReadonlyArray<string>
}

export interface SlurmJob {
  readonly version: 1
  readonly grid: string
  readonly gridName: string
  /** Planned runs (= array tasks in all): slot i is the plan's i-th spec in file-name order. */
  readonly tasks: number
  readonly python: string
  /** sbatch options every submission shares, and the --array parallelism cap. */
  readonly sbatch: ReadonlyArray<string>
  readonly parallel: number | null
  readonly submissions: ReadonlyArray<Submission>
}

export const readJob = (dir: string) =>
  Effect.try({
    try: () => JSON.parse(readFileSync(jobPaths(dir).record, "utf8")) as SlurmJob,
    catch: (e) =>
      new SlurmJobError({
        message: existsSync(jobPaths(dir).record)
          ? `${jobPaths(dir).record} could not be read: ${e instanceof Error ? e.message : String(e)}`
          : `${dir} is not a tunegrid Slurm job folder (no tunegrid-slurm.json); \`tunegrid slurm submit <grid> --dir ${dir}\` makes one`
      })
  })

/** Whole or not at all: a second command reading it never sees half a record. */
export const writeJob = (dir: string, job: SlurmJob) => {
  const { record } = jobPaths(dir)
  writeFileSync(`${record}.tmp`, JSON.stringify(job, null, 2) + "\n")
  renameSync(`${record}.tmp`, record)
}

/** Task ids of one array run from 0 to MaxArraySize − 1, and max_array_tasks caps how many one
 * array holds; so planned runs go to arrays by blocks of MaxArraySize (offset = block start),
 * each block cut into arrays of at most max_array_tasks. */
export const arrayChunks = (slots: ReadonlyArray<number>, config: Pick<ClusterConfig, "maxArraySize" | "maxArrayTasks">) => {
  const span = config.maxArraySize
  const perArray = Math.min(span, config.maxArrayTasks ?? span)
  const blocks = new Map<number, Array<number>>()
  for (const slot of [...new Set(slots)].sort((a, b) => a - b)) {
    const offset = Math.floor(slot / span) * span
    blocks.set(offset, [...(blocks.get(offset) ?? []), slot - offset])
  }
  return [...blocks.entries()].flatMap(([offset, ids]) =>
    Array.from({ length: Math.ceil(ids.length / perArray) }, (_, k) => ({ offset, taskIds: ids.slice(k * perArray, (k + 1) * perArray) }))
  )
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

/** The script every task runs: its planned run is `offset + SLURM_ARRAY_TASK_ID`. */
export const batchScript = (o: { gridName: string; repo: string; python: string; plan: string; runs: string; samplerMode: string }) =>
  `#!/bin/bash
# Written by \`tunegrid slurm submit\` for grid ${o.gridName}. Array task i of a submission runs the
# plan's spec number (offset + i), offset being this script's first argument, into runs/; the
# submissions are listed in tunegrid-slurm.json beside it.
set -euo pipefail
offset="\${1:?usage: sbatch --array=<task ids> job.sbatch <offset>}"
cd ${quote(o.repo)}
export PYTHONPATH=${quote(join(o.repo, "trainer"))}"\${PYTHONPATH:+:\$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false
exec ${quote(o.python)} -m tunegrid_trainer.batch ${quote(o.plan)} --out ${quote(o.runs)} \\
  --index "$((offset + SLURM_ARRAY_TASK_ID))" --sampler-mode ${o.samplerMode}
`

/** Which submission ran slot `slot` as which array task ("<job>_<task>"), oldest first. */
export const attemptsOf = (job: SlurmJob, slot: number) =>
  job.submissions.flatMap((s) => (s.taskIds.includes(slot - s.offset) ? [{ submission: s, key: `${s.jobId}_${slot - s.offset}` }] : []))
