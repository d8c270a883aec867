// One cell's real processes: the sampler and the trainer (python -m tunegrid_trainer), their stdout
// followed line by line (follow.ts: decoding, stop request, stall watchdog), a note when the
// sampler dies before the trainer, and cleanup (stop, then SIGTERM, then SIGKILL) when the scope closes.
// Their stderr goes straight to a file (never through this process's memory); the run keeps its tail.
import { Clock, Deferred, Effect, Fiber, Stream } from "effect"
import { execa } from "execa"
import { closeSync, openSync } from "node:fs"
import { trainerDir } from "../cells.ts"
import type { SamplerEvent, TrainerEvent } from "../protocol.ts"
import { followSampler, followTrainer, ProtocolError, type FollowOptions, type TrainerHandle } from "./follow.ts"
import type { Prestarted } from "./follow.ts"
import { pythonEnv } from "./python.ts"
import { tail, tailOfFile, type Evidence } from "./outcome.ts"

export interface CellProcessOptions<E, R> extends FollowOptions<E, R> {
  readonly python: string
  readonly specPath: string
  readonly stderrPath: string
  readonly samplerStderrPath: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly sampleIntervalMs: number
  /** Idle power is measured this long before the trainer starts (0: not measured). */
  readonly idleMs: number
  readonly onTrainer: (event: TrainerEvent) => Effect.Effect<void, E, R>
  readonly onSampler: (event: SamplerEvent) => Effect.Effect<void, E, R>
  /** Called as each process starts, so a later runner can find it if this one is killed. */
  readonly onSpawn?: (role: "trainer" | "sampler", pid: number | undefined) => void
  /** Extra environment for the trainer: CUDA_VISIBLE_DEVICES for a pool's GPU slot (slots.ts). */
  readonly trainerEnv?: Readonly<Record<string, string>>
  /** The GPU (NVML index) the sampler reads; default its own (0). */
  readonly samplerGpu?: number
  /** This cell's trainer, pre-started (prestart.ts): told `go` where a fresh one would be spawned. */
  readonly adopt?: Prestarted | undefined
}

/** A Python module as a child process: stdout streamed, stdin open for commands, stderr written by
 * the child itself into a file descriptor of that file (execa would otherwise buffer it, up to its
 * maxBuffer of 100 MB, and then kill the child). */
export const spawnPython = (
  python: string,
  args: ReadonlyArray<string>,
  stderrFile: string,
  env: Readonly<Record<string, string>> = {}
) => {
  // execa's types list only descriptors 1-9, but it hands any integer to spawn() as is (lib/stdio/native.js)
  const fd = openSync(stderrFile, "w") as 3
  try {
    // TUNEGRID_SPAWNED_AT: the trainer reports spawn → its first module as `started.timings.spawn`
    return execa(python, ["-u", ...args], {
      cwd: trainerDir,
      env: { ...pythonEnv(), TUNEGRID_SPAWNED_AT: String(Date.now() / 1000), ...env },
      reject: false,
      stdin: "pipe",
      stderr: fd,
      buffer: false
    })
  } finally {
    closeSync(fd) // the child has its own copy
  }
}
export type Child = ReturnType<typeof spawnPython>

const lines = (sub: Child) =>
  Stream.fromAsyncIterable(
    sub.iterable({ from: "stdout" }) as AsyncIterable<string>,
    (cause) => new ProtocolError({ message: String(cause) })
  )

const terminate = (sub: Child, graceMs: number) =>
  Effect.promise(async () => {
    sub.kill("SIGTERM") // a no-op when it already exited
    const timer = setTimeout(() => sub.kill("SIGKILL"), graceMs)
    await sub
    clearTimeout(timer)
  })

export const handle = (sub: Child): TrainerHandle => ({
  lines: lines(sub),
  requestStop: () => void sub.stdin?.write(JSON.stringify({ command: "stop" }) + "\n"),
  kill: () => void sub.kill("SIGKILL"),
  terminate: (graceMs) => terminate(sub, graceMs),
  exited: Effect.promise(() => sub).pipe(Effect.map((r) => ({ exitCode: r.exitCode ?? null, signal: r.signal ?? null })))
})

export const runCellProcesses = <E, R>(o: CellProcessOptions<E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sampler = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawnPython(
            o.python,
            [
              "-m",
              "tunegrid_trainer.sampler",
              "--interval-ms",
              String(o.sampleIntervalMs),
              "--mode",
              o.samplerMode,
              "--idle-ms",
              String(o.idleMs),
              ...(o.samplerGpu === undefined ? [] : ["--gpu", String(o.samplerGpu)])
            ],
            o.samplerStderrPath
          )
        ),
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
      const samplerFiber = yield* Effect.forkChild(followSampler(lines(sampler), o.onSampler, samplerReady))
      yield* Deferred.await(samplerReady).pipe(Effect.timeoutOption(o.idleMs + 30_000))

      const trainer = o.adopt
        ? yield* Effect.acquireRelease(
            Effect.sync(() => ({ pid: o.adopt!.pid, handle: o.adopt!.go() })),
            (t) => t.handle.terminate(10_000)
          )
        : yield* Effect.acquireRelease(
            Effect.sync(() => {
              const sub = spawnPython(o.python, ["-m", "tunegrid_trainer", "--spec", o.specPath], o.stderrPath, o.trainerEnv)
              return { pid: sub.pid, handle: handle(sub) }
            }),
            (t) => t.handle.terminate(10_000)
          )
      o.onSpawn?.("trainer", trainer.pid)
      const followed = yield* followTrainer(trainer.handle, o)
      trainerDone = true
      sampler.kill("SIGTERM")
      yield* Effect.promise(() => sampler)
      yield* Fiber.join(samplerFiber)
      return {
        ...followed,
        stderrTail: tail(tailOfFile(o.stderrPath)),
        endedAt: (yield* Clock.currentTimeMillis) / 1000,
        samplerError
      } satisfies Evidence
    })
  )
