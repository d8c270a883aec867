// `tunegrid run <grid>`: run every cell not yet done in this environment, then print the report.
// Progress goes to the Ink TUI on a terminal, else to plain lines, or to JSON lines with --json.
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Ledger } from "../ledger/Ledger.ts"
import { jsonProgress, plainProgress, RunControl } from "../progress.ts"
import { runGrid } from "../scheduler.ts"
import { mountTui, tuiPossible } from "../tui/render.ts"
import { printReport } from "./report.ts"
import { parseSeconds } from "../grid/expand.ts"
import { ledgerFlag, pythonFlag, resolvePython, UserError } from "./shared.ts"

export const runCommand = Command.make("run", {
  grid: Argument.String("grid-file").pipe(Argument.withDescription("TypeScript grid file, e.g. experiments/demo.ts")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("Override a grid field: --set base.model=preset:qwen2.5-1.5b --set measure.warmup=20s")),
  fresh: Flag.Boolean("fresh").pipe(Flag.withDefault(false), Flag.withDescription("Run every cell again, even those that already succeeded")),
  tui: Flag.Boolean("tui").pipe(Flag.withDefault(true), Flag.withDescription("--no-tui: plain progress lines (automatic when stdout is not a TTY or in CI)")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Stream the run's events as JSON lines on stdout (no TUI, no report; `tunegrid report --format json` after)")),
  sampler: Flag.Literals("sampler", ["auto", "nvml", "smi", "none"]).pipe(Flag.withDefault("auto"), Flag.withDescription("GPU sampler mode")),
  stallTimeout: Flag.String("stall-timeout").pipe(Flag.withDefault("10m"), Flag.withDescription("Kill a trainer that sends no event for this long and record the run failed: stalled (e.g. 90s, 10m)")),
  ledger: ledgerFlag,
  python: pythonFlag
}, (o) =>
  Effect.gen(function*() {
    const python = yield* resolvePython(o.python)
    const stallSeconds = parseSeconds(o.stallTimeout)
    if (stallSeconds === null || stallSeconds <= 0) {
      return yield* new UserError({ message: `--stall-timeout ${JSON.stringify(o.stallTimeout)}: expected a positive duration like "90s" or "10m"` })
    }
    const options = { gridPath: o.grid, overrides: o.set, python, fresh: o.fresh, samplerMode: o.sampler, stallTimeoutMs: stallSeconds * 1000 }
    if (o.json) {
      return yield* runGrid({ ...options, progress: jsonProgress((line) => process.stdout.write(line + "\n")) })
    }
    if (o.tui && tuiPossible()) {
      const control = new RunControl()
      yield* Effect.scoped(Effect.flatMap(mountTui(control), (store) => runGrid({ ...options, progress: store.progress, control })))
    } else {
      yield* runGrid({ ...options, progress: plainProgress((line) => console.log(line)) })
    }
    yield* Console.log("")
    yield* printReport("md")
  }).pipe(Effect.provide(Ledger.layer(o.ledger)))
).pipe(Command.withDescription("Run a grid (resumes by default: cells that already succeeded in this environment are skipped)"))
