// The Slurm client commands as a service: the cluster's config, submitting one array job, and
// what Slurm knows about a set of array jobs' tasks (squeue for live tasks; sacct where the
// cluster keeps accounting, else `scontrol show job`, which forgets jobs after MinJobAge).
import { Context, Effect, Layer, Schema } from "effect"
import { execa } from "execa"
import {
  parseConfig,
  parseSacct,
  parseScontrolJobs,
  parseSqueue,
  parseSubmitted,
  sacctFields,
  squeueFormat,
  taskKey,
  type ClusterConfig,
  type TaskState
} from "./parse.ts"

export class SlurmError extends Schema.TaggedError<SlurmError>()("SlurmError", { message: Schema.String }) {}

/** What Slurm says about the tasks of some array jobs. */
export interface TaskReport {
  /** Tasks squeue lists (pending, running, completing…), by "<array job>_<task>". */
  readonly live: ReadonlyMap<string, TaskState>
  /** Tasks that left the queue, from sacct or `scontrol show job`, by the same key. */
  readonly ended: ReadonlyMap<string, TaskState>
  /** Where the states came from and what could not be asked, in words. */
  readonly sources: string
}

export interface SlurmShape {
  readonly config: Effect.Effect<ClusterConfig, SlurmError>
  /** Asks `sbatch --test-only` whether the cluster takes these options (nothing is submitted). */
  readonly check: (args: ReadonlyArray<string>) => Effect.Effect<void, SlurmError>
  /** Runs `sbatch --parsable <args>`; the array job's id. */
  readonly submit: (args: ReadonlyArray<string>) => Effect.Effect<string, SlurmError>
  readonly tasks: (arrayJobIds: ReadonlyArray<string>, config: ClusterConfig) => Effect.Effect<TaskReport, SlurmError>
}

const run = (command: string, args: ReadonlyArray<string>) =>
  Effect.promise(() => execa(command, args, { reject: false, timeout: 120_000, stdin: "ignore" })).pipe(
    Effect.flatMap((r) => {
      if (r.code === "ENOENT") {
        return Effect.fail(
          new SlurmError({
            message: `${command} not found: tunegrid slurm needs Slurm's client commands (sbatch, squeue, scontrol) on PATH, as on a login node`
          })
        )
      }
      return Effect.succeed({
        ok: !r.failed,
        stdout: String(r.stdout),
        stderr: String(r.stderr).trim(),
        line: `${command} ${args.join(" ")}`
      })
    })
  )

const need = (command: string, args: ReadonlyArray<string>) =>
  Effect.flatMap(run(command, args), (r) =>
    r.ok ? Effect.succeed(r.stdout) : Effect.fail(new SlurmError({ message: `\`${r.line}\` failed: ${r.stderr || "no message"}` }))
  )

const byKey = (states: ReadonlyArray<TaskState>) => new Map(states.map((s) => [taskKey(s.arrayJobId, s.taskId), s]))

export const make: SlurmShape = {
  config: Effect.map(need("scontrol", ["show", "config"]), parseConfig),
  check: (args) =>
    Effect.flatMap(run("sbatch", ["--test-only", ...args, "--wrap=true"]), (r) =>
      r.ok
        ? Effect.void
        : Effect.fail(
            new SlurmError({ message: `the cluster refuses these sbatch options (${args.join(" ")}): ${r.stderr || "no message"}` })
          )
    ),
  submit: (args) =>
    Effect.flatMap(need("sbatch", ["--parsable", ...args]), (out) => {
      const id = parseSubmitted(out)
      return id ? Effect.succeed(id) : Effect.fail(new SlurmError({ message: `sbatch printed no job id: ${JSON.stringify(out.trim())}` }))
    }),
  tasks: (arrayJobIds, config) =>
    Effect.gen(function* () {
      const ours = new Set(arrayJobIds)
      // Every job of this user: `squeue -j` fails outright once one of the ids has left the queue.
      const queue = yield* need("squeue", ["-h", "-r", "--me", "-o", squeueFormat])
      const live = byKey(parseSqueue(queue).filter((s) => ours.has(s.arrayJobId)))
      if (arrayJobIds.length === 0) return { live, ended: new Map(), sources: "squeue" }
      let accountingNote = `sacct unavailable: AccountingStorageType=${config.accounting}`
      if (config.accounting !== "accounting_storage/none") {
        const acct = yield* run("sacct", ["-X", "-n", "-P", "-D", "-j", arrayJobIds.join(","), "-o", sacctFields])
        if (acct.ok) return { live, ended: byKey(parseSacct(acct.stdout)), sources: "squeue + sacct" }
        accountingNote = `sacct failed: ${acct.stderr.split("\n")[0] ?? ""}`
      }
      const records: Array<TaskState> = []
      for (const id of arrayJobIds) {
        const shown = yield* run("scontrol", ["show", "job", "-o", id])
        if (shown.ok) records.push(...parseScontrolJobs(shown.stdout)) // a forgotten job is "Invalid job id": nothing to add
      }
      const age = config.minJobAgeS === null ? "" : ` (it forgets finished jobs after MinJobAge=${config.minJobAgeS}s)`
      return { live, ended: byKey(records), sources: `squeue + scontrol show job${age} + run folders; ${accountingNote}` }
    })
}

export class Slurm extends Context.Service<Slurm, SlurmShape>()("tunegrid/Slurm") {
  static readonly layer = Layer.succeed(Slurm, Slurm.of(make))
  /** Tests: a stand-in that answers from fixed data. */
  static readonly layerTest = (shape: SlurmShape) => Layer.succeed(Slurm, Slurm.of(shape))
}
