// Slurm options of a submission: a grid's `slurm` block, overridden by the command's flags, turned
// into the sbatch options every array job of the submission shares. Pure.
import { Schema } from "effect"

/** Slurm's --time forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED. */
const slurmTime = /^(?:\d+(?::\d+){0,2}|\d+-\d+(?::\d+){0,2}|UNLIMITED|INFINITE)$/

export const SlurmGridOptions = Schema.Struct({
  partition: Schema.optionalKey(Schema.NonEmptyString),
  account: Schema.optionalKey(Schema.NonEmptyString),
  /** Per task, in Slurm's --time forms ("30", "1:30:00", "2-00:00:00"). */
  time: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(
        Schema.isPattern(slurmTime, {
          message: 'Expected a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH:MM:SS or UNLIMITED), e.g. "1:30:00"'
        })
      )
    )
  ),
  /** GPUs per task, requested as --gres=gpu:N; 0 asks for none (CPU cells). */
  gpus: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))),
  /** A whole --gres value instead of gpus, e.g. "gpu:a100:1". */
  gres: Schema.optionalKey(Schema.NonEmptyString),
  cpusPerTask: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
  /** Memory per node, as --mem takes it ("32G"). */
  mem: Schema.optionalKey(Schema.NonEmptyString),
  /** At most this many tasks of one array running at once (--array=…%N). */
  parallel: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
  /** Let Slurm requeue a task that is preempted or whose node fails (--requeue). */
  requeue: Schema.optionalKey(Schema.Boolean),
  /** Further sbatch options, each one argument: ["--qos=high", "--constraint=h100"]. */
  sbatch: Schema.optionalKey(
    Schema.Array(
      Schema.String.pipe(Schema.check(Schema.isPattern(/^--?\w/, { message: 'Expected one sbatch option such as "--qos=high"' })))
    )
  )
})
export type SlurmGridOptions = typeof SlurmGridOptions.Type

/** Flags given on the command line; each overrides the grid's value. */
export type SlurmFlags = { readonly [K in keyof SlurmGridOptions]?: SlurmGridOptions[K] | undefined }

export interface ResolvedOptions {
  readonly options: SlurmGridOptions
  /** sbatch options shared by every array job of the submission (not --array). */
  readonly sbatch: ReadonlyArray<string>
  /** Lines worth telling the user (a default that was chosen for them). */
  readonly notes: ReadonlyArray<string>
}

/** A flag's value that Slurm would reject, named before anything is written or submitted. */
export const flagProblems = (flags: SlurmFlags): Array<string> => {
  const problems: Array<string> = []
  if (flags.time !== undefined && !slurmTime.test(flags.time)) {
    problems.push(`--time ${JSON.stringify(flags.time)}: expected Slurm's time forms (minutes, MM:SS, HH:MM:SS, D-HH:MM:SS), e.g. 1:30:00`)
  }
  for (const [name, value, min] of [
    ["gpus", flags.gpus, 0],
    ["cpus-per-task", flags.cpusPerTask, 1],
    ["parallel", flags.parallel, 1]
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < min))
      problems.push(`--${name} ${value}: expected a whole number ≥ ${min}`)
  }
  for (const extra of flags.sbatch ?? []) {
    if (!/^--?\w/.test(extra)) problems.push(`--sbatch ${JSON.stringify(extra)}: expected one sbatch option such as --qos=high`)
    if (/^--?(array|a|output|o|error|e|parsable)\b/.test(extra))
      problems.push(`--sbatch ${extra}: tunegrid sets --array, --output and --parsable itself`)
  }
  return problems
}

export const resolveOptions = (
  grid: SlurmGridOptions | undefined,
  flags: SlurmFlags,
  job: { readonly name: string; readonly logs: string; readonly cpuOnly: boolean }
): ResolvedOptions => {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)))
  const o = { ...grid, ...defined, sbatch: [...(grid?.sbatch ?? []), ...(flags.sbatch ?? [])] } as SlurmGridOptions
  const notes: Array<string> = []
  let gres = o.gres
  if (gres === undefined) {
    const gpus = o.gpus ?? (job.cpuOnly ? 0 : 1)
    if (o.gpus === undefined && job.cpuOnly) notes.push("every cell runs on the CPU: no GPU requested (--gpus 1 asks for one anyway)")
    gres = gpus > 0 ? `gpu:${gpus}` : undefined
  }
  const sbatch = [
    `--job-name=tunegrid-${job.name}`,
    `--output=${job.logs}/%A_%a.out`,
    "--open-mode=append", // a requeued task adds to its log instead of replacing it
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.account ? [`--account=${o.account}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(gres ? [`--gres=${gres}`] : []),
    ...(o.cpusPerTask ? [`--cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.mem ? [`--mem=${o.mem}`] : []),
    ...(o.requeue ? ["--requeue"] : []),
    ...(o.sbatch ?? [])
  ]
  return { options: o, sbatch, notes }
}

/** `--array` for these task ids, with the parallelism cap: "0-99%8". */
export const arrayArg = (ids: string, parallel: number | undefined) => `--array=${ids}${parallel ? `%${parallel}` : ""}`
