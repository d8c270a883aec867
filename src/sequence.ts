// A grid's runs one after another (no pool), optionally with pre-start (issue #21,
// trainer/PROTOCOL.md §2a): as each run's trainer is spawned, the next run's folder is made and its
// trainer started with `--prestart`, so its imports overlap this run's own start-up and warm-up
// instead of adding to the grid's wall time. It is paused (SIGSTOP) before this run's window can
// begin (pausesBefore), so no window step shares the machine with it, continued when this run's
// trainer ends (`finished`/`failed`, or its exit), and adopted by the next run, which tells it `go`
// after its sampler is ready. A quit, an interrupt or a failure of the runner kills it; a killed
// runner's lifeline and leftovers do too.
import { Effect } from "effect"
import type { Measure } from "./grid/schema.ts"
import type { TrainerEvent } from "./protocol.ts"
import type { PoolRun } from "./pool.ts"
import type { RunFolder } from "./runOne.ts"
import type { RunControl } from "./progress.ts"
import type { Prestarted } from "./trainer/prestart.ts"

/** What a run is given to take part in pre-start (runOne's RunRequest fields of the same names). */
export interface SequenceHooks {
  readonly folder: RunFolder | undefined
  readonly adopt: Prestarted | undefined
  readonly onTrainerSpawned: ((dir: string) => void) | undefined
  readonly onTrainerEvent: ((event: TrainerEvent) => void) | undefined
}

/** Whether this event of the running trainer is the last moment to pause a pre-started one before
 * a window step could run. With a warm-up of n steps: the end of step n − 1 (the trainer is at
 * most one line's delivery, about a millisecond, into step n, the first window step, when the line
 * arrives; not measured); any step not in warm-up, in case. With a warm-up of seconds
 * or detected (the window's first step is known only once it has run): `started`, before any step. */
export const pausesBefore =
  (warmup: Measure["warmup"]) =>
  (e: TrainerEvent): boolean => {
    const steps = "steps" in warmup ? warmup.steps : 0
    if (e.event === "started") return steps === 0
    return e.event === "step" && (e.phase !== "warmup" || e.step >= steps - 1)
  }

/** The next run's trainer, started ahead. */
export interface Ahead {
  readonly run: PoolRun
  readonly folder: RunFolder
  readonly trainer: Prestarted
}

export interface SequenceOptions<E, R> {
  readonly pending: ReadonlyArray<PoolRun>
  readonly control?: RunControl | undefined
  /** Starts `run`'s trainer ahead; `currentDir` is the running run's folder (its processes.jsonl
   * gets the PID too, so a killed runner's leftovers include it). Null: no pre-start. */
  readonly prestart: ((run: PoolRun, currentDir: string) => Ahead) | null
  /** pausesBefore(the grid's warm-up). */
  readonly pauseOn: (event: TrainerEvent) => boolean
  readonly run: (run: PoolRun, hooks: SequenceHooks) => Effect.Effect<string, E, R>
}

/** Runs `pending` in order until done or a quit; returns the statuses counted and the runs left. */
export const runSequence = <E, R>(o: SequenceOptions<E, R>) =>
  Effect.gen(function* () {
    const counts: Record<string, number> = {}
    const state: { ahead: Ahead | null } = { ahead: null }
    let next = 0
    const loop = Effect.gen(function* () {
      while (next < o.pending.length && !o.control?.quitting) {
        const current = o.pending[next++]!
        const mine = state.ahead?.run === current ? state.ahead : null
        state.ahead = null
        const following = o.pending[next]
        const status = yield* o
          .run(current, {
            folder: mine?.folder,
            adopt: mine?.trainer,
            onTrainerSpawned:
              o.prestart && following
                ? (dir) => {
                    if (state.ahead === null && !o.control?.quitting) state.ahead = o.prestart!(following, dir)
                  }
                : undefined,
            onTrainerEvent: (e) => {
              if (o.pauseOn(e)) state.ahead?.trainer.pause()
              // its window is over (quitting: killed below, not continued)
              if ((e.event === "finished" || e.event === "failed") && !o.control?.quitting) state.ahead?.trainer.resume()
            }
          })
          .pipe(Effect.ensuring(Effect.sync(() => !o.control?.quitting && state.ahead?.trainer.resume()))) // quitting: killed below, not continued
        counts[status] = (counts[status] ?? 0) + 1
      }
    })
    yield* loop.pipe(Effect.ensuring(Effect.sync(() => state.ahead?.trainer.discard())))
    return { counts, left: o.pending.length - next }
  })
