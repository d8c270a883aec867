// `tunegrid rerun <prefix>`: rerun a recorded run's exact cell and say whether it reproduced.
// It takes `run`'s flags (src/cli/watch.ts). Exit codes: 0 reproduced, 3 not reproduced,
// 4 environment or inputs changed (--set changes the cell too), 5 the rerun failed, 6 refused
// (trainer source or dataset changed; --force), 1 the command itself failed.
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Ledger } from "../ledger/Ledger.ts"
import { rerun } from "../rerun/rerun.ts"
import { renderVerdict } from "../rerun/render.ts"
import { resolvePython, UserError } from "../cli/flags.ts"
import { runFlags, stallMs, watched } from "../cli/watch.ts"

const fraction = (name: string, value: number) =>
  Number.isFinite(value) && value >= 0
    ? Effect.succeed(value)
    : Effect.fail(new UserError({ message: `--${name} ${value}: expected a fraction ≥ 0, e.g. 0.1 for ±10%` }))

export const rerunCommand = Command.make(
  "rerun",
  {
    prefix: Argument.String("run-or-cell").pipe(
      Argument.withDescription("Run id or cell hash, a unique prefix of at least 4 characters (tunegrid runs lists them)")
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Run even if the trainer source or dataset changed since the original run")
    ),
    tolerance: Flag.Finite("tolerance").pipe(
      Flag.withDefault(0.1),
      Flag.withDescription("Relative tolerance for tok/s and J/token when no CIs are recorded (default 0.1 = ±10%)")
    ),
    lossTolerance: Flag.Finite("loss-tolerance").pipe(
      Flag.withDefault(0.02),
      Flag.withDescription("Per-step relative loss tolerance when bit-identity is not expected (default 0.02)")
    ),
    ...runFlags
  },
  (o) =>
    Effect.gen(function* () {
      const python = yield* resolvePython(o.python)
      const tolerance = yield* fraction("tolerance", o.tolerance)
      const lossTolerance = yield* fraction("loss-tolerance", o.lossTolerance)
      const stallTimeoutMs = yield* stallMs(o.stallTimeout)
      const report = yield* watched(o, (w) =>
        rerun({
          prefix: o.prefix,
          python,
          samplerMode: o.sampler,
          force: o.force,
          overrides: o.set,
          stallTimeoutMs,
          tolerance,
          lossTolerance,
          progress: w.progress,
          ...(w.control ? { control: w.control } : {}),
          say: w.say
        })
      )
      if (o.json) yield* Console.log(JSON.stringify({ type: "verdict", at: Date.now(), ...report }))
      else yield* Console.log(`\n${renderVerdict(report)}`)
      process.exitCode = report.exitCode
    }).pipe(Effect.provide(Ledger.layer(o.ledger)))
).pipe(
  Command.withDescription(
    "Rerun a recorded run's exact cell and judge it: environment diff, loss step by step, tok/s and J/token. Exit 0 reproduced, 3 not reproduced, 4 environment changed, 5 rerun failed, 6 refused (inputs changed; --force)"
  )
)
