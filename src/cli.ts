#!/usr/bin/env node
// tunegrid's entry point: lists the commands and runs the chosen one. Decisions live in the
// commands and services; this file only wires them.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect } from "effect"
import { Command } from "effect/cli"
import { doctorCommand } from "./commands/doctor.ts"
import { exportCommand } from "./commands/export.ts"
import { fitCommand } from "./commands/fit.ts"
import { ingestCommand, planCommand } from "./commands/ingest.ts"
import { plotCommand } from "./commands/plot.ts"
import { reportCommand, runsCommand } from "./commands/report.ts"
import { rerunCommand } from "./commands/rerun.ts"
import { runCommand } from "./commands/run.ts"
import { slurmCommand } from "./commands/slurm.ts"
import { sqlCommand } from "./commands/sql.ts"
import { helpShown, usagePresenter } from "./cli/usage.ts"
import { tunegridVersion } from "./env.ts"
import { explainIoError } from "./ioerror.ts"
import { TrainerProcess } from "./trainer/TrainerProcess.ts"

const cli = Command.make("tunegrid").pipe(
  Command.withDescription("Experiment-as-code grid runner with a reproducibility ledger for LoRA/QLoRA fine-tuning"),
  Command.withSubcommands([
    runCommand,
    reportCommand,
    sqlCommand,
    runsCommand,
    doctorCommand,
    planCommand,
    ingestCommand,
    rerunCommand,
    exportCommand,
    plotCommand,
    slurmCommand,
    fitCommand
  ])
)

/** Known failures print their message; anything else prints the full cause. */
const reportFailure = (cause: Cause.Cause<unknown>) =>
  Effect.sync(() => {
    if (Cause.hasInterruptsOnly(cause)) return
    const error = Cause.squash(cause)
    if (helpShown(error) !== null) return // the presenter already said it (sr./cli/usage.ts)
    const known = error instanceof Error && typeof (error as { _tag?: unknown })._tag === "string"
    const io = known ? null : explainIoError(String(error))
    const where = (error as { path?: unknown }).path
    if (io !== null) console.error(`error: ${typeof where === "string" ? `${where}: ` : ""}${io}\n  (${String(error).split("\n")[0]})`)
    else console.error(known ? `error: ${error.message}` : Cause.pretty(cause))
  })

// An ssh disconnect (SIGHUP) stops a run as SIGTERM does: the current run is recorded interrupted
// and its trainer stopped (Node's default for SIGHUP is to die on the spot, leaving a `running` row).
process.on("SIGHUP", () => process.kill(process.pid, "SIGTERM"))
// `run … | head`, or a terminal gone with the ssh session: once nothing reads stdout/stderr, writes
// fail (EPIPE, EIO). The grid goes on and records every run; there is just nobody to print to.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "EIO" && e.code !== "ERR_STREAM_DESTROYED") throw e
  })
}

Command.run(cli, { version: tunegridVersion }).pipe(
  Effect.tapCause(reportFailure),
  // help with nothing wrong (bare `tunegrid`) is a success
  Effect.catchIf(
    (e) => helpShown(e)?.problems === 0,
    () => Effect.void
  ),
  Effect.provide(usagePresenter),
  Effect.provide(TrainerProcess.layer), // run, rerun and fit start trainers through it
  Effect.provide(NodeServices.layer),
  (program) => NodeRuntime.runMain(program, { disableErrorReporting: true })
)
