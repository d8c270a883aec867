// What `run` and `rerun` share, so they take the same flags and show progress the same way:
// --set, --no-tui, --json, --sampler, --stall-timeout, --python and --ledger, and the watcher
// they choose (the Ink TUI on a terminal, plain timestamped lines, or JSON lines).
import { Effect, Scope } from "effect"
import { Flag } from "effect/cli"
import { parseSeconds } from "../grid/expand.ts"
import { jsonProgress, plainProgress, RunControl, type Progress } from "../progress.ts"
import { mountTui, tuiPossible } from "../tui/render.ts"
import { ledgerFlag, pythonFlag, UserError } from "./flags.ts"

export const runFlags = {
  set: Flag.String("set").pipe(
    Flag.atLeast(0),
    Flag.withDescription(
      "Override a grid field: --set base.model=preset:qwen2.5-1.5b --set measure.warmup=20s (rerun: a cell field, e.g. --set batchSize=2; the rerun is then a new cell)"
    )
  ),
  tui: Flag.Boolean("tui").pipe(
    Flag.withDefault(true),
    Flag.withDescription("--no-tui: plain progress lines (automatic when stdout is not a TTY or in CI)")
  ),
  json: Flag.Boolean("json").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Stream the run's events as JSON lines on stdout (no TUI, no report; `tunegrid report --format json` after)")
  ),
  sampler: Flag.Literals("sampler", ["auto", "nvml", "smi", "none"]).pipe(
    Flag.withDefault("auto"),
    Flag.withDescription("GPU sampler mode")
  ),
  stallTimeout: Flag.String("stall-timeout").pipe(
    Flag.withDefault("10m"),
    Flag.withDescription("Kill a trainer that sends no event for this long and record the run failed: stalled (e.g. 90s, 10m)")
  ),
  ledger: ledgerFlag,
  python: pythonFlag
}

export const stallMs = (text: string) => {
  const seconds = parseSeconds(text)
  return seconds === null || seconds <= 0
    ? Effect.fail(new UserError({ message: `--stall-timeout ${JSON.stringify(text)}: expected a positive duration like "90s" or "10m"` }))
    : Effect.succeed(seconds * 1000)
}

export interface Watcher {
  readonly progress: Progress
  /** Keyboard requests (skip / quit), with the TUI only. */
  readonly control?: RunControl
  readonly mode: "tui" | "plain" | "json"
  /** Text for people (nothing in --json mode, where stdout is JSON lines only). */
  readonly say: (text: string) => void
}

/** Run `body` under the watcher the flags ask for; the TUI is unmounted when it ends. */
export const watched = <A, E, R>(
  o: { readonly tui: boolean; readonly json: boolean },
  body: (w: Watcher) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, Scope.Scope>> => {
  if (o.json) {
    return body({
      progress: jsonProgress((line) => process.stdout.write(line + "\n")),
      mode: "json",
      say: () => undefined
    }) as Effect.Effect<A, E, Exclude<R, Scope.Scope>>
  }
  if (o.tui && tuiPossible()) {
    const control = new RunControl()
    return Effect.scoped(
      Effect.flatMap(mountTui(control), (store) => body({ progress: store.progress, control, mode: "tui", say: (t) => console.log(t) }))
    )
  }
  return body({ progress: plainProgress((line) => console.log(line)), mode: "plain", say: (t) => console.log(t) }) as Effect.Effect<
    A,
    E,
    Exclude<R, Scope.Scope>
  >
}
