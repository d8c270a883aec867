// Recorded trainer output for the scheduler's in-process tests: a real tiny CPU run's `started`
// event and sampler lines (test/fixtures/recorded), with steps of chosen durations after it, run
// through the scheduler with TrainerProcess.layerTest and an in-memory ledger.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Ledger } from "../../src/ledger/Ledger.ts"
import { eventProgress, type RunControl, type RunEvent } from "../../src/progress.ts"
import { runGrid } from "../../src/scheduler.ts"
import type { Slot } from "../../src/slots.ts"
import type { PrestartLog, Recording, Replay } from "../../src/trainer/replay.ts"
import { TrainerProcess } from "../../src/trainer/TrainerProcess.ts"

const fixtures = resolve(import.meta.dirname, "../fixtures/recorded")
const lines = (file: string) => readFileSync(join(fixtures, file), "utf8").split("\n").filter(Boolean)

/** The trainer's own recording, as it was: started, 1 warm-up and 4 window steps, finished. */
export const recordedTrainer = lines("trainer.jsonl")
export const recordedSampler = lines("sampler.jsonl")
const started = JSON.parse(recordedTrainer[0]!) as { t: number }

/** Started, then 1 warm-up and `window` window steps of `seconds` each (64 tokens), then finished;
 * `pauseMs` of real time between lines (so a stop request can arrive in between). */
export const recording = (o: { seconds?: number; window?: number; pauseMs?: number; finish?: boolean } = {}): Array<string | number> => {
  const seconds = o.seconds ?? 0.1
  const window = o.window ?? 4
  let t = started.t
  const out: Array<string | number> = [recordedTrainer[0]!]
  for (let step = 0; step <= window; step++) {
    if (o.pauseMs) out.push(o.pauseMs)
    out.push(
      JSON.stringify({
        event: "step",
        t: t + seconds,
        step,
        t_start: t,
        t_end: t + seconds,
        tokens: 64,
        padded_tokens: 64,
        samples: 1,
        loss: 11.9,
        lr: 2e-4,
        grad_norm: 0.6,
        mem_allocated_mib: null,
        mem_reserved_mib: null,
        mem_peak_allocated_mib: null,
        mem_peak_reserved_mib: null,
        phase: step === 0 ? "warmup" : "window"
      })
    )
    t += seconds
  }
  if (o.finish !== false) {
    out.push(JSON.stringify({ event: "finished", t, reason: "window_complete", steps: window + 1, warmup_steps: 1, window_steps: window }))
  }
  return out
}

/** A CPU grid of the tiny preset, one cell per seed, as the fault tests write them. */
export const grid = (seeds: Array<number>, measure: Record<string, unknown> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), "tunegrid-scheduler-"))
  const file = join(dir, "grid.ts")
  writeFileSync(
    file,
    `export default {
  name: "scheduler",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false },
  seeds: ${JSON.stringify(seeds)},
  measure: ${JSON.stringify({ warmup: "1 steps", window: "4 steps", maxDuration: "120s", ...measure })}
}
`
  )
  return { dir, file }
}

/** Runs `runGrid` on `file` with the replayed trainer; what the watchers saw goes to `events` (and `watch`). */
export const runReplayed = (
  file: string,
  events: Array<RunEvent>,
  o: {
    control?: RunControl
    stallTimeoutMs?: number
    fresh?: boolean
    watch?: (e: RunEvent) => void
    slots?: ReadonlyArray<Slot>
    prestart?: boolean
  } = {}
) =>
  runGrid({
    gridPath: file,
    overrides: [],
    python: "python3-not-used",
    fresh: o.fresh ?? false,
    samplerMode: "none",
    progress: eventProgress((e) => {
      events.push(e)
      o.watch?.(e)
    }),
    artifacts: join(file, "..", "runs"),
    ...(o.control ? { control: o.control } : {}),
    ...(o.prestart ? { prestart: true } : {}),
    ...(o.slots ? { slots: o.slots } : {}),
    ...(o.stallTimeoutMs ? { stallTimeoutMs: o.stallTimeoutMs } : {})
  })

/** The services runGrid needs: a fresh in-memory ledger, real files, and the replayed trainer. */
export const replayed = (replay: Replay, prestarts?: PrestartLog) =>
  Layer.mergeAll(Ledger.layerTest, NodeFileSystem.layer, TrainerProcess.layerTest(replay, undefined, prestarts))

/** Every replay gets the same recording; `calls` counts the trainers started. */
export const always = (rec: Recording) => {
  const calls: Array<string> = []
  const replay: Replay = (spec) => {
    calls.push(spec.cell_hash)
    return rec
  }
  return { calls, replay }
}

export const rows = (sql: string) => Effect.flatMap(Ledger, (l) => l.rows(sql))
