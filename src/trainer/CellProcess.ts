// One cell's processes: the sampler and the trainer (python -m tunegrid_trainer), their stdout
// decoded line by line into events handed to the caller as they arrive, a stop request on
// stdin, a stall watchdog (no trainer event for stallTimeoutMs → killed), a note when the
// sampler dies before the trainer, and cleanup (stop, then SIGTERM, then SIGKILL) when the scope closes.
// Their stderr goes straight to a file (never through this process's memory); the run keeps its tail.
import { Deferred, Effect, Fiber, Schema, Stream } from "effect"
import { execa } from "execa"
import { closeSync, openSync } from "node:fs"
import { trainerDir } from "../cells.ts"
import { decodeSamplerLine, decodeTrainerLine, trainerSequence, type SamplerEvent, type TrainerEvent } from "../protocol.ts"
import { pythonEnv } from "./python.ts"
import { tail, tailOfFile, type Evidence, type StopCause } from "./outcome.ts"

class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", { message: Schema.String }) {}

export interface CellProcessOptions<E, R> {
  readonly python: string
  readonly specPath: string
  readonly stderrPath: string
  readonly samplerStderrPath: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly sampleIntervalMs: number
  /** Idle power is measured this long before the trainer starts (0: not measured). */
  readonly idleMs: number
  /** No trainer event (or start-up) for this long, in ms → the trainer is killed and the run fails `stalled`. */
  readonly stallTimeoutMs: number
  readonly onTrainer: (event: TrainerEvent) => Effect.Effect<void, E, R>
  readonly onSampler: (event: SamplerEvent) => Effect.Effect<void, E, R>
  /** Completed by the caller to ask the trainer to stop after its current step. */
  readonly stop: Deferred.Deferred<Exclude<StopCause, null>>
  /** Why the caller could not store a trainer event because of the event itself (a value the
   * ledger refuses), or null when the failure is the caller's own (a full disk): the first fails
   * this run as `protocol` and the grid goes on, the second stops the grid. */
  readonly refused?: (error: E) => string | null
  /** Called as each process starts, so a later runner can find it if this one is killed. */
  readonly onSpawn?: (role: "trainer" | "sampler", pid: number | undefined) => void
}

/** A Python module as a child process: stdout streamed, stdin open for commands, stderr written by
 * the child itself into a file descriptor of that file (execa would otherwise buffer it, up to its
 * maxBuffer of 100 MB, and then kill the child). */
const spawnPython = (python: string, args: ReadonlyArray<string>, stderrFile: string) => {
  // execa's types list only descriptors 1-9, but it hands any integer to spawn() as is (lib/stdio/native.js)
  const fd = openSync(stderrFile, "w") as 3
  try {
    return execa(python, ["-u", ...args], { cwd: trainerDir, env: pythonEnv(), reject: false, stdin: "pipe", stderr: fd, buffer: false })
  } finally {
    closeSync(fd) // the child has its own copy
  }
}
type Child = ReturnType<typeof spawnPython>

const lines = (sub: Child) =>
  Stream.fromAsyncIterable(sub.iterable({ from: "stdout" }) as AsyncIterable<string>, (cause) => new ProtocolError({ message: String(cause) }))

const terminate = (sub: Child, graceMs: number) =>
  Effect.promise(async () => {
    sub.kill("SIGTERM") // a no-op when it already exited
    const timer = setTimeout(() => sub.kill("SIGKILL"), graceMs)
    await sub
    clearTimeout(timer)
  })

export const runCellProcesses = <E, R>(o: CellProcessOptions<E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const sampler = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawnPython(o.python, ["-m", "tunegrid_trainer.sampler", "--interval-ms", String(o.sampleIntervalMs), "--mode", o.samplerMode,
          "--idle-ms", String(o.idleMs)], o.samplerStderrPath)),
      (sub) => terminate(sub, 3000)
    )
    o.onSpawn?.("sampler", sampler.pid)
    // The sampler's header comes after its idle-power measurement: the trainer starts only then.
    const samplerReady = yield* Deferred.make<void>()
    // The sampler is only asked to stop once the trainer has exited; ending before that is a death.
    let trainerDone = false
    let samplerError: string | null = null
    void sampler.then((r) => {
      if (trainerDone) return
      const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`
      const err = tail(tailOfFile(o.samplerStderrPath), 3)
      samplerError = `the sampler ${how} before the trainer finished; energy and device memory are missing for this run${err ? ` (sampler stderr: ${err.replaceAll("\n", " | ")})` : ""}`
    })
    const samplerFiber = yield* Effect.forkChild(
      lines(sampler).pipe(Stream.runForEach((line) => {
        const decoded = decodeSamplerLine(line)
        // A broken sampler must not sink the run: its samples simply stop (energy then shows as missing).
        return decoded._tag === "Success"
          ? Effect.andThen(o.onSampler(decoded.success), Deferred.succeed(samplerReady, undefined))
          : Effect.logWarning(`sampler: undecodable line ignored: ${line.slice(0, 200)}`)
      }), Effect.catchCause(() => Effect.void), Effect.ensuring(Deferred.succeed(samplerReady, undefined)))
    )
    yield* Deferred.await(samplerReady).pipe(Effect.timeoutOption(o.idleMs + 30_000))

    const trainer = yield* Effect.acquireRelease(
      Effect.sync(() => spawnPython(o.python, ["-m", "tunegrid_trainer", "--spec", o.specPath], o.stderrPath)),
      (sub) => terminate(sub, 10_000)
    )
    o.onSpawn?.("trainer", trainer.pid)
    let stopCause: StopCause = null
    yield* Effect.forkChild(Effect.flatMap(Deferred.await(o.stop), (cause) =>
      Effect.sync(() => {
        stopCause = cause
        trainer.stdin?.write(JSON.stringify({ command: "stop" }) + "\n")
      })))

    // Stall watchdog: checked every 250 ms against the time of the last line (or the start).
    let lastLineAt = Date.now()
    let stalledAfterS: number | null = null
    yield* Effect.forkChild(Effect.gen(function*() {
      while (stalledAfterS === null && !trainerDone) {
        yield* Effect.sleep(250)
        if (Date.now() - lastLineAt >= o.stallTimeoutMs) {
          stalledAfterS = Math.round(o.stallTimeoutMs / 100) / 10
          yield* terminate(trainer, 3000) // SIGTERM, then SIGKILL: a stalled process may ignore SIGTERM
        }
      }
    }))

    let terminal: Evidence["terminal"] = null
    let protocolError: string | null = null
    let lineNo = 0
    const sequence = trainerSequence()
    const reject = (message: string) => {
      trainer.kill("SIGKILL") // now: closing the stream would otherwise wait for the process to end
      return Effect.fail(new ProtocolError({ message }))
    }
    yield* lines(trainer).pipe(
      Stream.runForEach((line): Effect.Effect<void, E | ProtocolError, R> => {
        lineNo += 1
        lastLineAt = Date.now()
        const decoded = decodeTrainerLine(line)
        if (decoded._tag === "Failure") {
          // the first problem and where it is ("Expected an integer at ["tokens"]")
          const why = decoded.failure.split("\n").slice(0, 2).map((s) => s.trim()).join(" ")
          return reject(`trainer stdout line ${lineNo} is not a protocol event (${why}): ${JSON.stringify(line.slice(0, 200))}`)
        }
        const event = decoded.success
        const outOfOrder = sequence(event)
        if (outOfOrder !== null) return reject(`trainer stdout line ${lineNo}: ${outOfOrder}: ${JSON.stringify(line.slice(0, 200))}`)
        if (event.event === "finished") terminal = { event: "finished", reason: event.reason }
        if (event.event === "failed") {
          terminal = { event: "failed", kind: event.kind, message: event.message, detail: event.detail, step: event.step, memoryMib: event.memory_mib }
        }
        return o.onTrainer(event).pipe(Effect.catch((e: E): Effect.Effect<void, E | ProtocolError> => {
          const why = o.refused?.(e) ?? null
          return why === null ? Effect.fail(e) : reject(`trainer stdout line ${lineNo} (${event.event}) could not be recorded: ${why}`)
        }))
      }),
      Effect.catch((e) => {
        if (!(e instanceof ProtocolError)) return Effect.fail(e as E)
        return Effect.sync(() => {
          protocolError = e.message
          trainer.kill("SIGKILL")
        })
      })
    )
    const result = yield* Effect.promise(() => trainer)
    trainerDone = true
    sampler.kill("SIGTERM")
    yield* Effect.promise(() => sampler)
    yield* Fiber.join(samplerFiber)
    return {
      terminal,
      protocolError,
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stderrTail: tail(tailOfFile(o.stderrPath)),
      stopCause,
      endedAt: Date.now() / 1000,
      stalledAfterS,
      samplerError
    } satisfies Evidence
  }))
