// `tunegrid fit <grid> --budget <card|size>`: per configuration, the largest micro-batch that runs
// under the budget (probes, then a measured run at the frontier), then the report.
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { fitGrid } from "../fit/fit.ts"
import { planFit } from "../fit/plan.ts"
import { parseSeconds } from "../grid/expand.ts"
import { Ledger } from "../ledger/Ledger.ts"
import { plainProgress } from "../progress.ts"
import { printReport } from "../report/print.ts"
import { ledgerFlag, pythonFlag, resolvePython, UserError } from "../cli/flags.ts"

export const fitCommand = Command.make(
  "fit",
  {
    grid: Argument.String("grid-file").pipe(Argument.withDescription("TypeScript grid file; each of its cells is a configuration to fit")),
    budget: Flag.String("budget").pipe(
      Flag.optional,
      Flag.withDescription(
        "VRAM budget for every cell: a card (rtx4060, rtx4060ti16gb, rtx5060ti16gb, rtx3090, rtx4090) or a size (8GiB, 7800MiB); default: each cell's vramBudget"
      )
    ),
    search: Flag.Literals("search", ["batchSize", "tokensPerStep"]).pipe(
      Flag.optional,
      Flag.withDescription("The micro-batch to search (default: tokensPerStep for packed cells, batchSize otherwise)")
    ),
    headroom: Flag.Finite("headroom").pipe(
      Flag.withDefault(0.05),
      Flag.withDescription("Fits: no OOM and torch's peak allocation ≤ (1 − headroom) × the cap (default 0.05)")
    ),
    probeSteps: Flag.Int("probe-steps").pipe(
      Flag.withDefault(3),
      Flag.withDescription("Optimizer steps per probe, on the largest micro-batch the data produces (default 3)")
    ),
    max: Flag.Int("max").pipe(Flag.optional, Flag.withDescription("Largest value to probe (default 256 samples or 262,144 tokens)")),
    granularity: Flag.Int("granularity").pipe(
      Flag.withDefault(256),
      Flag.withDescription("tokensPerStep searched in steps of this many tokens (default 256)")
    ),
    measure: Flag.Boolean("measure").pipe(
      Flag.withDefault(true),
      Flag.withDescription("--no-measure: find the frontiers only, without the measured run at each")
    ),
    set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("Override a grid field, as for run")),
    plan: Flag.String("plan").pipe(
      Flag.optional,
      Flag.withDescription(
        "Write the searches to this folder for a machine with Python but no Node (python -m tunegrid_trainer.fit there, tunegrid ingest here) instead of running them"
      )
    ),
    tokenizerDir: Flag.String("tokenizer-dir").pipe(
      Flag.optional,
      Flag.withDescription("With --plan: where the offline Qwen tokenizer will be on the training machine")
    ),
    sampler: Flag.Literals("sampler", ["auto", "nvml", "smi", "none"]).pipe(
      Flag.withDefault("auto"),
      Flag.withDescription("GPU sampler mode")
    ),
    stallTimeout: Flag.String("stall-timeout").pipe(
      Flag.withDefault("10m"),
      Flag.withDescription("Kill a trainer that sends no event for this long")
    ),
    ledger: ledgerFlag,
    python: pythonFlag
  },
  (o) =>
    Effect.gen(function* () {
      if (!(o.headroom >= 0 && o.headroom < 1))
        return yield* new UserError({ message: `--headroom ${o.headroom}: expected a fraction in [0, 1), e.g. 0.05` })
      if (o.probeSteps < 2)
        return yield* new UserError({
          message: `--probe-steps ${o.probeSteps}: expected at least 2 (the optimizer state exists from the first step)`
        })
      if (o.granularity < 1)
        return yield* new UserError({ message: `--granularity ${o.granularity}: expected a positive number of tokens` })
      const search = {
        budget: Option.getOrNull(o.budget),
        field: Option.getOrNull(o.search),
        headroom: o.headroom,
        probeSteps: o.probeSteps,
        max: Option.getOrNull(o.max),
        granularity: o.granularity
      }
      if (Option.isSome(o.plan)) {
        const plan = yield* planFit(o.grid, o.set, search, o.plan.value, Option.getOrNull(o.tokenizerDir))
        yield* Console.log(`wrote ${plan.searches.length} fit searches to ${o.plan.value}/fit.json`)
        return yield* Console.log(
          `on the training machine, from a copy of this repository: PYTHONPATH=trainer python -m tunegrid_trainer.fit ${o.plan.value} --out <runs-dir>${o.measure ? "" : " --no-measure"}; then here: tunegrid ingest <runs-dir>`
        )
      }
      const python = yield* resolvePython(o.python)
      const stallSeconds = parseSeconds(o.stallTimeout)
      if (stallSeconds === null || stallSeconds <= 0) {
        return yield* new UserError({
          message: `--stall-timeout ${JSON.stringify(o.stallTimeout)}: expected a positive duration like "90s" or "10m"`
        })
      }
      const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} [fit] ${line}`)
      yield* Effect.gen(function* () {
        const fitted = yield* fitGrid({
          ...search,
          gridPath: o.grid,
          overrides: o.set,
          python,
          samplerMode: o.sampler,
          stallTimeoutMs: stallSeconds * 1000,
          measure: o.measure,
          log,
          progress: plainProgress((line) => console.log(line))
        })
        yield* Console.log("")
        yield* printReport({ grid: fitted.grid })
      }).pipe(Effect.provide(Ledger.layer(o.ledger)))
    })
).pipe(
  Command.withDescription(
    "Find, per configuration, the largest micro-batch that runs under a VRAM budget (probes under the card's cap), then measure it there; resumes like run"
  )
)
