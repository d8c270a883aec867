// The trainer and sampler as recordings, for TrainerProcess.layerTest: each cell's stdout lines are
// replayed (with pauses where the recording has them) through the same follower as a real process
// (follow.ts: decoding, order checks, stop request, stall watchdog), so the scheduler's paths are
// tested in-process. A replayed trainer obeys a stop request as the real one does (a `finished`
// event with reason stop_requested, exit 0), hangs silently where the recording says so, and
// "dies" by the signal it is sent.
import { Clock, Deferred, Effect, Stream } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import type { CellProcessOptions } from "./CellProcess.ts"
import { followSampler, followTrainer, type Exit, type TrainerHandle } from "./follow.ts"
import { tail, tailOfFile, type Evidence } from "./outcome.ts"
import { pausable, type PrestartOptions, type Prestarted } from "./prestart.ts"

export interface Recording {
  /** The trainer's stdout lines in order; a number between them is a pause in ms. */
  readonly trainer: ReadonlyArray<string | number>
  /** The sampler's stdout lines (its header first). */
  readonly sampler?: ReadonlyArray<string>
  /** After the last line: how the trainer exits (default code 0), or "hang": silent and alive,
   * deaf to a stop request, until it is sent a signal (a stalled trainer). */
  readonly end?: Exit | "hang"
  /** What it wrote to stderr (the run keeps the tail of a crash's). */
  readonly stderr?: string
}

/** Picks the recording for one run from its spec (cell.json as the trainer would read it). */
export type Replay = (spec: { readonly run_id: string; readonly cell_hash: string; readonly [key: string]: unknown }) => Recording

/** A trainer process played from a recording: lines through an async iterable, as execa gives them. */
const replayedTrainer = (rec: Recording): TrainerHandle => {
  let stopRequested = false
  let signal: string | null = null
  let wake = () => {}
  let exit!: (e: Exit) => void
  const exited = new Promise<Exit>((resolve) => (exit = resolve)) // the first call wins: later ones are no-ops
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  const send = (s: string) => {
    signal ??= s
    exit({ exitCode: null, signal: s })
    wake()
  }
  async function* lines(): AsyncGenerator<string> {
    const counts = { steps: 0, warmup: 0, window: 0, t: 0 }
    for (const item of rec.trainer) {
      if (signal !== null) return
      if (stopRequested) {
        yield JSON.stringify({
          event: "finished",
          t: counts.t,
          reason: "stop_requested",
          steps: counts.steps,
          warmup_steps: counts.warmup,
          window_steps: counts.window
        })
        return exit({ exitCode: 0, signal: null })
      }
      if (typeof item === "number") {
        await pause(item)
        continue
      }
      const event = safeParse(item)
      counts.t = typeof event?.t === "number" ? event.t : counts.t
      if (event?.event === "step") {
        counts.steps += 1
        if (event.phase === "warmup") counts.warmup += 1
        if (event.phase === "window") counts.window += 1
      }
      yield item
    }
    if (rec.end === "hang") {
      while (signal === null) await pause(60_000)
      return
    }
    exit(rec.end ?? { exitCode: 0, signal: null })
  }
  return {
    lines: Stream.fromAsyncIterable(lines(), (cause) => cause as never),
    requestStop: () => {
      if (rec.end === "hang") return // a stuck trainer reads no stdin
      stopRequested = true
      wake()
    },
    kill: () => send("SIGKILL"),
    terminate: () => Effect.promise(() => (send("SIGTERM"), exited)),
    exited: Effect.promise(() => exited)
  }
}

const safeParse = (line: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
}

/** One run replayed: the same Evidence a real cell's processes give. */
export const replayCell = <E, R>(o: CellProcessOptions<E, R>, replay: Replay) =>
  Effect.scoped(
    Effect.gen(function* () {
      const rec = replay(JSON.parse(readFileSync(o.specPath, "utf8")))
      writeFileSync(o.stderrPath, rec.stderr ?? "")
      writeFileSync(o.samplerStderrPath, "")
      o.onSpawn?.("sampler", undefined)
      const samplerReady = yield* Deferred.make<void>()
      yield* followSampler(Stream.fromIterable(rec.sampler ?? []), o.onSampler, samplerReady)
      const trainer = o.adopt ? o.adopt.go() : replayedTrainer(rec) // a real one is told `go` before onSpawn too
      o.onSpawn?.("trainer", undefined)
      const followed = yield* followTrainer(trainer, o)
      return {
        ...followed,
        stderrTail: tail(tailOfFile(o.stderrPath)),
        endedAt: (yield* Clock.currentTimeMillis) / 1000,
        samplerError: null
      } satisfies Evidence
    })
  )

/** What was done to replayed pre-started trainers, in order: the run id and the signal or `go`. */
export type PrestartLog = Array<{ readonly runId: string; readonly action: "spawn" | "SIGSTOP" | "SIGCONT" | "SIGKILL" | "go" }>

/** A pre-started trainer replayed: its recording (picked from its spec now, as a real one reads
 * it at spawn) plays from its `go`; the signals it is sent are only logged. */
export const replayPrestart = (o: PrestartOptions, replay: Replay, log: PrestartLog): Prestarted => {
  const spec = JSON.parse(readFileSync(o.specPath, "utf8")) as Parameters<Replay>[0]
  const rec = replay(spec)
  writeFileSync(o.stderrPath, rec.stderr ?? "")
  log.push({ runId: spec.run_id, action: "spawn" })
  return pausable(
    (s) => void log.push({ runId: spec.run_id, action: s }),
    () => {
      log.push({ runId: spec.run_id, action: "go" })
      return replayedTrainer(rec)
    }
  )
}
