// `tunegrid plan <grid> --out <dir>` and `tunegrid ingest <dir>`: cells that run where the
// runner is not (GPU boxes and cluster nodes with Python but no Node).
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadGrid } from "../grid/load.ts"
import { ingestFitDir } from "../fit/ingest.ts"
import { isFitDir } from "../fit/plan.ts"
import { ingestDir, writePlan } from "../ingest.ts"
import { Ledger } from "../ledger/Ledger.ts"
import { printReport } from "../report/print.ts"
import { ledgerFlag } from "../cli/flags.ts"

export const planCommand = Command.make(
  "plan",
  {
    grid: Argument.String("grid-file"),
    out: Flag.String("out").pipe(Flag.withDescription("Folder for the cell specs and manifest.json")),
    set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("Override a grid field, as for run")),
    tokenizerDir: Flag.String("tokenizer-dir").pipe(
      Flag.optional,
      Flag.withDescription("Where the offline Qwen tokenizer will be on the training machine")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadGrid(o.grid, o.set)
      const manifest = writePlan(loaded, o.out, Option.getOrNull(o.tokenizerDir))
      yield* Console.log(`wrote ${manifest.runs.length} cell specs and manifest.json to ${o.out}`)
      yield* Console.log(
        `on the training machine, from a copy of this repository: PYTHONPATH=trainer python -m tunegrid_trainer.batch ${o.out} --out <runs-dir>; then here: tunegrid ingest <runs-dir>`
      )
    })
).pipe(Command.withDescription("Write a grid's resolved cell specs for a Python-only machine (see tunegrid ingest)"))

export const ingestCommand = Command.make(
  "ingest",
  {
    dir: Argument.String("runs-dir").pipe(Argument.withDescription("Folder written by python -m tunegrid_trainer.batch (or .fit)")),
    ledger: ledgerFlag
  },
  (o) =>
    Effect.gen(function* () {
      if (isFitDir(o.dir)) {
        const c = yield* ingestFitDir(o.dir)
        yield* Console.log(`ingested a fit: ${c.probes} probes, ${c.decisions} frontiers, ${c.runs} measured runs\n`)
      } else {
        const { recorded, skipped } = yield* ingestDir(o.dir)
        for (const r of recorded) yield* Console.log(`recorded run ${r.runId.slice(0, 8)}: ${r.status}`)
        yield* Console.log(`ingested ${recorded.length} runs (${skipped} already in the ledger)\n`)
      }
      yield* printReport({ grid: null })
    }).pipe(Effect.provide(Ledger.layer(o.ledger)))
).pipe(Command.withDescription("Record Python-only run folders into the ledger, exactly as a live run would have"))
