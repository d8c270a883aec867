// `tunegrid run <grid>`: run every cell not yet done in this environment, then print the report
// for that grid and how the run ended; the exit code says it too (src/cli/exit.ts).
// Progress goes to the Ink TUI on a terminal, else to plain lines, or to JSON lines with --json.
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Ledger } from "../ledger/Ledger.ts"
import type { Progress } from "../progress.ts"
import { runGrid } from "../scheduler.ts"
import { resolveSlots } from "../slots.ts"
import { runEnding } from "../cli/exit.ts"
import { printReport } from "../report/print.ts"
import { resolvePython } from "../cli/flags.ts"
import { runFlags, stallMs, watched } from "../cli/watch.ts"

/** The grid's name as the scheduler announces it, for the report that follows. */
const noticingGrid = (progress: Progress, seen: { grid: string | null }): Progress => ({
  ...progress,
  plan: (info) => {
    seen.grid = info.grid
    progress.plan(info)
  }
})

export const runCommand = Command.make(
  "run",
  {
    grid: Argument.String("grid-file").pipe(Argument.withDescription("TypeScript grid file, e.g. experiments/demo.ts")),
    fresh: Flag.Boolean("fresh").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Run every cell again, even those that already succeeded")
    ),
    allowFailures: Flag.Boolean("allow-failures").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Exit 0 even when runs failed (failures are results); default: exit 3")
    ),
    slots: Flag.Int("slots").pipe(
      Flag.optional,
      Flag.withDescription("Run N trainers side by side on this machine (CPU workers; each run records its slot)")
    ),
    gpus: Flag.String("gpus").pipe(
      Flag.optional,
      Flag.withDescription("One trainer per GPU: indices (0,1,3) or all; each trainer sees only its GPU, which is recorded with its run")
    ),
    prestart: Flag.Boolean("prestart").pipe(
      Flag.withDefault(false),
      Flag.withDescription(
        "Start each next cell's trainer (imports only) while the current cell starts up, paused while it steps (trainer/PROTOCOL.md §2a); not with --slots/--gpus"
      )
    ),
    ...runFlags
  },
  (o) =>
    Effect.gen(function* () {
      const python = yield* resolvePython(o.python)
      const slots = yield* resolveSlots({ slots: Option.getOrUndefined(o.slots), gpus: Option.getOrUndefined(o.gpus) })
      const options = {
        gridPath: o.grid,
        overrides: o.set,
        python,
        fresh: o.fresh,
        samplerMode: o.sampler,
        stallTimeoutMs: yield* stallMs(o.stallTimeout),
        slots,
        prestart: o.prestart
      }
      const seen = { grid: null as string | null }
      const counts = yield* watched(o, (w) =>
        runGrid({ ...options, progress: noticingGrid(w.progress, seen), ...(w.control ? { control: w.control } : {}) })
      )
      const ending = runEnding(counts, o.allowFailures)
      if (!o.json) {
        yield* Console.log("")
        yield* printReport({ grid: seen.grid })
        yield* Console.log(`\n${ending.line}`)
      }
      process.exitCode = ending.code
    }).pipe(Effect.provide(Ledger.layer(o.ledger)))
).pipe(
  Command.withDescription(
    "Run a grid (resumes by default: cells that already succeeded in this environment are skipped). Exit 0 all succeeded, 2 grid refused before any trainer started, 3 some runs failed (--allow-failures: 0), 130 stopped with runs left"
  )
)
