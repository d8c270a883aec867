// `tunegrid slurm submit|status|collect|resubmit`: a grid as Slurm job arrays. Slurm schedules;
// tunegrid plans into a job folder on shared storage, submits, watches and collects, and the
// collector is the only ledger writer.
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { parseSeconds } from "../grid/expand.ts"
import { Ledger } from "../ledger/Ledger.ts"
import { collect, observe } from "../slurm/collect.ts"
import type { SlurmFlags } from "../slurm/options.ts"
import { renderStatus } from "../slurm/render.ts"
import { Slurm } from "../slurm/Slurm.ts"
import { resubmit, submit } from "../slurm/submit.ts"
import { ledgerFlag, pythonFlag, resolvePython, UserError } from "../cli/flags.ts"

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)
const jobDir = Argument.String("job-dir").pipe(Argument.withDescription("The job folder `tunegrid slurm submit --dir` made"))

/** Options that go to sbatch; on resubmit they apply to the new arrays only. */
const sbatchFlags = {
  partition: Flag.String("partition").pipe(Flag.optional, Flag.withDescription("Slurm partition (grid: slurm.partition)")),
  account: Flag.String("account").pipe(Flag.optional, Flag.withDescription("Slurm account to charge (grid: slurm.account)")),
  time: Flag.String("time").pipe(Flag.optional, Flag.withDescription("Time limit per task, e.g. 1:30:00 (grid: slurm.time)")),
  parallel: Flag.Int("parallel").pipe(
    Flag.optional,
    Flag.withDescription("At most N tasks of an array at once: --array=…%N (grid: slurm.parallel)")
  ),
  sbatch: Flag.String("sbatch").pipe(
    Flag.atLeast(0),
    Flag.withDescription("Another sbatch option, as one argument: --sbatch=--qos=high (grid: slurm.sbatch)")
  )
}

const settleFlag = Flag.String("settle").pipe(
  Flag.withDefault("60s"),
  Flag.withDescription(
    "How long a run folder without exit.json must be quiet, once its task left the queue, before it is recorded as killed (shared storage may show writes late)"
  )
)

const settleSeconds = (text: string) => {
  const s = parseSeconds(text)
  return s === null || s < 0
    ? Effect.fail(new UserError({ message: `--settle ${JSON.stringify(text)}: expected a duration such as 60s or 2m` }))
    : Effect.succeed(s)
}

const submitCommand = Command.make(
  "submit",
  {
    grid: Argument.String("grid-file"),
    dir: Flag.String("dir").pipe(Flag.withDescription("Job folder on storage the compute nodes share (plan/, runs/, logs/, job.sbatch)")),
    set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("Override a grid field, as for run")),
    ...sbatchFlags,
    gpus: Flag.Int("gpus").pipe(
      Flag.optional,
      Flag.withDescription("GPUs per task as --gres=gpu:N; 0: none (default 1, 0 when every cell runs on the CPU)")
    ),
    gres: Flag.String("gres").pipe(Flag.optional, Flag.withDescription("A whole --gres value instead of --gpus, e.g. gpu:a100:1")),
    cpusPerTask: Flag.Int("cpus-per-task").pipe(Flag.optional, Flag.withDescription("CPUs per task")),
    mem: Flag.String("mem").pipe(Flag.optional, Flag.withDescription("Memory per task's node, e.g. 64G")),
    requeue: Flag.Boolean("requeue").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Let Slurm requeue a preempted task or one whose node failed (each execution is its own run)")
    ),
    tokenizerDir: Flag.String("tokenizer-dir").pipe(
      Flag.optional,
      Flag.withDescription("Where the offline Qwen tokenizer is on the nodes (default: this repository's copy)")
    ),
    sampler: Flag.Literals("sampler", ["auto", "nvml", "smi", "none"]).pipe(
      Flag.withDefault("auto"),
      Flag.withDescription("GPU sampler mode on the nodes")
    ),
    python: pythonFlag
  },
  (o) =>
    Effect.gen(function* () {
      const python = yield* resolvePython(o.python)
      const flags: SlurmFlags = {
        partition: opt(o.partition),
        account: opt(o.account),
        time: opt(o.time),
        parallel: opt(o.parallel),
        sbatch: o.sbatch,
        gpus: opt(o.gpus),
        gres: opt(o.gres),
        cpusPerTask: opt(o.cpusPerTask),
        mem: opt(o.mem),
        requeue: o.requeue || undefined
      }
      const r = yield* submit({
        gridPath: o.grid,
        overrides: o.set,
        dir: o.dir,
        flags,
        python,
        tokenizerDir: Option.getOrNull(o.tokenizerDir),
        samplerMode: o.sampler
      })
      for (const note of r.notes) yield* Console.log(`note: ${note}`)
      const limit = r.config.maxArrayTasks === null ? "" : `, max_array_tasks ${r.config.maxArrayTasks}`
      yield* Console.log(`planned ${r.job.tasks} runs into ${r.dir}/plan (cluster: MaxArraySize ${r.config.maxArraySize}${limit})`)
      for (const s of r.made)
        yield* Console.log(
          `submitted array job ${s.jobId}: ${s.taskIds.length} tasks (runs ${s.offset}–${s.offset + s.taskIds.at(-1)!}): sbatch ${s.argv.join(" ")}`
        )
      yield* Console.log(
        `watch: tunegrid slurm status ${o.dir}; record: tunegrid slurm collect ${o.dir} [--ledger file] (any time, as often as you like)`
      )
    }).pipe(Effect.provide(Slurm.layer))
).pipe(
  Command.withDescription("Plan a grid into a job folder on shared storage and submit it as Slurm job arrays, one task per planned run")
)

const statusCommand = Command.make(
  "status",
  {
    dir: jobDir,
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print the task rows as JSON"))
  },
  (o) =>
    Effect.gen(function* () {
      const seen = yield* observe(o.dir)
      const sources = seen.report?.sources ?? `nothing from Slurm (${seen.unreachable}); run folders only`
      if (o.json)
        return yield* Console.log(
          JSON.stringify({ grid: seen.job.gridName, sources, submissions: seen.job.submissions, tasks: seen.rows }, null, 2)
        )
      yield* Console.log(renderStatus(o.dir, seen.job, seen.rows, sources))
    }).pipe(Effect.provide(Slurm.layer))
).pipe(Command.withDescription("Show each planned run's Slurm task (squeue, then sacct or scontrol) and what its run folder says"))

const collectCommand = Command.make("collect", { dir: jobDir, ledger: ledgerFlag, settle: settleFlag }, (o) =>
  Effect.gen(function* () {
    const r = yield* collect(o.dir, yield* settleSeconds(o.settle))
    yield* printCollected(r)
  }).pipe(Effect.provide([Ledger.layer(o.ledger), Slurm.layer]))
).pipe(Command.withDescription("Record the job's finished run folders into the ledger (idempotent; safe while tasks still run)"))

const printCollected = (r: Effect.Success<ReturnType<typeof collect>>) =>
  Effect.gen(function* () {
    for (const run of r.recorded) yield* Console.log(`recorded run ${run.runId.slice(0, 8)}: ${run.status}`)
    const waiting = r.waiting > 0 ? `, ${r.waiting} of running tasks left for later` : ""
    yield* Console.log(`collected ${r.recorded.length} runs (${r.skipped} already in the ledger${waiting})`)
    yield* Console.log(
      `task states from ${r.seen.report?.sources ?? `nothing from Slurm (${r.seen.unreachable}); only folders with exit.json were recorded`}`
    )
    for (const l of r.lost)
      yield* Console.log(`task ${l.key} (run ${l.slot}) ended ${l.state} without a run folder${l.log ? `; see ${l.log}` : ""}`)
  })

const resubmitCommand = Command.make(
  "resubmit",
  {
    dir: jobDir,
    failed: Flag.Boolean("failed").pipe(
      Flag.withDefault(false),
      Flag.withDescription(
        "Every planned run that has not succeeded and is not pending or running (failed, timed out, cancelled, preempted, never ran)"
      )
    ),
    task: Flag.Int("task").pipe(Flag.atLeast(0), Flag.withDescription("A planned run (slot in `status`) to run again; repeatable")),
    ...sbatchFlags,
    ledger: ledgerFlag,
    settle: settleFlag
  },
  (o) =>
    Effect.gen(function* () {
      if (o.failed === o.task.length > 0) return yield* new UserError({ message: "say which runs: --failed, or --task N (repeatable)" })
      const flags: SlurmFlags = {
        partition: opt(o.partition),
        account: opt(o.account),
        time: opt(o.time),
        parallel: opt(o.parallel),
        sbatch: o.sbatch
      }
      const r = yield* resubmit({ dir: o.dir, failed: o.failed, slots: o.task, flags, settleS: yield* settleSeconds(o.settle) })
      yield* printCollected(r.collected)
      if (r.slots.length === 0) return yield* Console.log("nothing to resubmit: every planned run succeeded or is still pending or running")
      for (const s of r.made)
        yield* Console.log(
          `resubmitted runs ${s.taskIds.map((t) => t + s.offset).join(", ")} as array job ${s.jobId}: sbatch ${s.argv.join(" ")}`
        )
    }).pipe(Effect.provide([Ledger.layer(o.ledger), Slurm.layer]))
).pipe(Command.withDescription("Collect, then submit again the planned runs that failed, timed out, were cancelled or preempted"))

export const slurmCommand = Command.make("slurm").pipe(
  Command.withDescription("Run a grid as Slurm job arrays: submit, status, collect, resubmit"),
  Command.withSubcommands([submitCommand, statusCommand, collectCommand, resubmitCommand])
)
