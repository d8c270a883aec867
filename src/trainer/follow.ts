// Following one trainer through its stdout, whatever runs it (a real process or a replay): each
// line decoded against the protocol and checked for order, handed to the caller as it arrives,
// a stop request forwarded, a stall watchdog (no line for stallTimeoutMs → terminated), and the
// exit awaited. Also the sampler's lines, decoded the same way. Time comes from Effect's Clock.
import { Clock, Deferred, Effect, Schema, Stream } from "effect"
import { decodeSamplerLine, decodeTrainerLine, trainerSequence, type SamplerEvent, type TrainerEvent } from "../protocol.ts"
import { terminalOf, type Evidence, type StopCause } from "./outcome.ts"

export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", { message: Schema.String }) {}

/** How a trainer process ended (as execa reports it). */
export interface Exit {
  readonly exitCode: number | null
  readonly signal: string | null
}

/** One running trainer as the follower sees it. */
export interface TrainerHandle {
  /** Its stdout, line by line, as it arrives. */
  readonly lines: Stream.Stream<string, ProtocolError>
  /** Ask it to stop after its current step (a command on its stdin). */
  readonly requestStop: () => void
  /** SIGKILL now (a no-op once it exited). */
  readonly kill: () => void
  /** SIGTERM, then SIGKILL after graceMs (ms); done once it exited. */
  readonly terminate: (graceMs: number) => Effect.Effect<void>
  /** Done when it exited. */
  readonly exited: Effect.Effect<Exit>
}

export interface FollowOptions<E, R> {
  /** No trainer event (or start-up) for this long, in ms → the trainer is killed and the run fails `stalled`. */
  readonly stallTimeoutMs: number
  readonly onTrainer: (event: TrainerEvent) => Effect.Effect<void, E, R>
  /** Completed by the caller to ask the trainer to stop after its current step. */
  readonly stop: Deferred.Deferred<Exclude<StopCause, null>>
  /** Why the caller could not store a trainer event because of the event itself (a value the
   * ledger refuses), or null when the failure is the caller's own (a full disk): the first fails
   * this run as `protocol` and the grid goes on, the second stops the grid. */
  readonly refused?: (error: E) => string | null
}

export type Followed = Pick<Evidence, "terminal" | "protocolError" | "stopCause" | "stalledAfterS"> & Exit

/** Follow a trainer until it exited. Forks its helpers (stop forwarding, watchdog) as children of
 * the calling fiber, so they end with the caller's scope. */
export const followTrainer = <E, R>(t: TrainerHandle, o: FollowOptions<E, R>) =>
  Effect.gen(function* () {
    let trainerDone = false
    let stopCause: StopCause = null
    yield* Effect.forkChild(
      Effect.flatMap(Deferred.await(o.stop), (cause) =>
        Effect.sync(() => {
          stopCause = cause
          t.requestStop()
        })
      )
    )

    // Stall watchdog: checked every 250 ms against the time of the last line (or the start).
    let lastLineAt = yield* Clock.currentTimeMillis
    let stalledAfterS: number | null = null
    yield* Effect.forkChild(
      Effect.gen(function* () {
        while (stalledAfterS === null && !trainerDone) {
          yield* Effect.sleep(250)
          if ((yield* Clock.currentTimeMillis) - lastLineAt >= o.stallTimeoutMs) {
            stalledAfterS = Math.round(o.stallTimeoutMs / 100) / 10
            yield* t.terminate(3000) // SIGTERM, then SIGKILL: a stalled process may ignore SIGTERM
          }
        }
      })
    )

    let terminal: Evidence["terminal"] = null
    let protocolError: string | null = null
    let lineNo = 0
    const sequence = trainerSequence()
    const reject = (message: string) => {
      t.kill() // now: closing the stream would otherwise wait for the process to end
      return Effect.fail(new ProtocolError({ message }))
    }
    yield* t.lines.pipe(
      Stream.runForEach(
        (line): Effect.Effect<void, E | ProtocolError, R> =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            lineNo += 1
            lastLineAt = now
            const decoded = decodeTrainerLine(line)
            if (decoded._tag === "Failure") {
              // the first problem and where it is ("Expected an integer at ["tokens"]")
              const why = decoded.failure
                .split("\n")
                .slice(0, 2)
                .map((s) => s.trim())
                .join(" ")
              return reject(`trainer stdout line ${lineNo} is not a protocol event (${why}): ${JSON.stringify(line.slice(0, 200))}`)
            }
            const event = decoded.success
            const outOfOrder = sequence(event)
            if (outOfOrder !== null) return reject(`trainer stdout line ${lineNo}: ${outOfOrder}: ${JSON.stringify(line.slice(0, 200))}`)
            terminal = terminalOf(event) ?? terminal
            return o.onTrainer(event).pipe(
              Effect.catch((e: E): Effect.Effect<void, E | ProtocolError> => {
                const why = o.refused?.(e) ?? null
                return why === null
                  ? Effect.fail(e)
                  : reject(`trainer stdout line ${lineNo} (${event.event}) could not be recorded: ${why}`)
              })
            )
          })
      ),
      Effect.catch((e) => {
        if (!(e instanceof ProtocolError)) return Effect.fail(e as E)
        return Effect.sync(() => {
          protocolError = e.message
          t.kill()
        })
      })
    )
    const exit = yield* t.exited
    trainerDone = true
    return { terminal, protocolError, stopCause, stalledAfterS, ...exit } satisfies Followed
  })

/** Feed the sampler's lines to the caller; `ready` is completed at its first event (its header
 * comes after the idle-power measurement) or when it ends. A broken sampler must not sink the
 * run: undecodable lines are logged and skipped, and its samples simply stop. */
export const followSampler = <E, R>(
  lines: Stream.Stream<string, ProtocolError>,
  onSampler: (event: SamplerEvent) => Effect.Effect<void, E, R>,
  ready: Deferred.Deferred<void>
) =>
  lines.pipe(
    Stream.runForEach((line) => {
      const decoded = decodeSamplerLine(line)
      return decoded._tag === "Success"
        ? Effect.andThen(onSampler(decoded.success), Deferred.succeed(ready, undefined))
        : Effect.logWarning(`sampler: undecodable line ignored: ${line.slice(0, 200)}`)
    }),
    Effect.catchCause(() => Effect.void),
    Effect.ensuring(Deferred.succeed(ready, undefined))
  )

/** A pre-started trainer, before and at its hand-over. */
export interface Prestarted {
  readonly pid: number | undefined
  /** SIGSTOP: no CPU (or anything else) while the running cell measures; a no-op once exited. */
  readonly pause: () => void
  /** SIGCONT after a pause; a no-op otherwise. */
  readonly resume: () => void
  /** SIGKILL: not needed after all (quit, interrupt). Nothing of it is recorded. */
  readonly discard: () => void
  /** Continued if paused, told `go`: from here on it is this cell's trainer. */
  readonly go: () => TrainerHandle
}
