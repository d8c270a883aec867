import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { makeEnvironment } from "../../src/env.ts"
import { Ledger } from "../../src/ledger/Ledger.ts"
import {
  endRun,
  markOrphansInterrupted,
  recordSamplerEvent,
  recordTrainerEvent,
  startRun,
  succeededKeys
} from "../../src/ledger/records.ts"
import type { EnvFacts } from "../../src/protocol.ts"

const facts: EnvFacts = {
  python: "3.11.7",
  torch: "2.15.0",
  transformers: "5.24.0",
  peft: "0.21.2",
  accelerate: "1.15.0",
  bitsandbytes: null,
  cuda: "13.0",
  cudnn: null,
  device: "cuda",
  gpu_name: "Test GPU",
  gpu_memory_mib: 8192,
  gpu_uuid: "GPU-1",
  driver: "580",
  power_limit_w: 115,
  os: "Linux",
  cpu: "x86",
  hostname: "box"
}
const env = makeEnvironment(facts, { commit: null, dirty: null })
const tmp = () => join(mkdtempSync(join(tmpdir(), "tunegrid-ledger-")), "l.duckdb")
const withLedger = <A, E>(path: string, body: Effect.Effect<A, E, Ledger>) =>
  Effect.runPromise(Effect.scoped(body.pipe(Effect.provide(Ledger.layer(path)))))

const t0 = 1_700_000_000
/** 10 steps of 1 s and 1000 real tokens (1024 padded): 2 warm-up, 8 in the window; a GPU drawing 100 W. */
const recordSyntheticRun = (runId: string) =>
  Effect.gen(function* () {
    yield* startRun({
      runId,
      cellHash: "c".repeat(64),
      envHash: env.envHash,
      gridHash: null,
      seed: 42,
      repeat: 0,
      origin: "live",
      startedAt: t0,
      rerunOf: null
    })
    yield* recordSamplerEvent(runId, {
      event: "sampler",
      t: t0,
      mode: "nvml",
      reason: "test",
      gpu_index: 0,
      gpu_name: "Test GPU",
      memory_total_mib: 8192,
      power_limit_w: 115,
      energy_counter: true,
      interval_ms: 100,
      idle_power_w: 40,
      idle_samples: 30
    })
    for (let i = 0; i <= 110; i++) {
      const t = t0 + i * 0.1 - 0.05
      yield* recordSamplerEvent(runId, {
        event: "sample",
        t,
        energy_mj: (t - t0) * 100_000,
        power_w: 100,
        mem_used_mib: 5000 + (i === 50 ? 1000 : 0),
        util_pct: 99,
        sm_clock_mhz: 2000,
        temp_c: 60,
        throttle: 0,
        host_rss_mib: 1000,
        host_cpu_pct: 50
      })
    }
    for (let step = 0; step < 10; step++) {
      yield* recordTrainerEvent(runId, {
        event: "step",
        t: t0 + step + 1,
        step,
        t_start: t0 + step,
        t_end: t0 + step + 1,
        tokens: 1000,
        padded_tokens: 1024,
        samples: 4,
        loss: 3 - step * 0.1,
        lr: 1e-4,
        grad_norm: 1,
        mem_allocated_mib: 3000,
        mem_reserved_mib: 3500,
        mem_peak_allocated_mib: 3200 + step,
        mem_peak_reserved_mib: 3600,
        phase: step < 2 ? "warmup" : "window"
      })
    }
    yield* endRun(runId, {
      status: "succeeded",
      endedAt: t0 + 11,
      finishReason: "window_complete",
      errorKind: null,
      errorMessage: null,
      errorDetail: null,
      exitCode: 0,
      exitSignal: null,
      stderrTail: null
    })
  })

describe("ledger", () => {
  it("computes a run's figures from its steps and samples over the steady window", async () => {
    const path = tmp()
    const r = await withLedger(
      path,
      Effect.gen(function* () {
        yield* recordSyntheticRun("run-1")
        return (yield* (yield* Ledger).rows(`SELECT * FROM results WHERE run_id = 'run-1'`))[0]!
      })
    )
    expect(r.warmup_steps).toBe(2)
    expect(r.window_steps).toBe(8)
    expect(r.window_seconds).toBeCloseTo(8, 6)
    expect(Number(r.tokens_window)).toBe(8000)
    expect(r.tok_s).toBeCloseTo(1000, 6)
    expect(r.t10k_s).toBeCloseTo(10, 6)
    expect(r.padded_tok_s).toBeCloseTo(1024, 6)
    expect(r.energy_method).toBe("counter")
    expect(r.energy_counter_j).toBeCloseTo(800, 3)
    expect(r.energy_integrated_j).toBeCloseTo(800, 3)
    expect(r.j_per_token).toBeCloseTo(0.1, 6)
    expect(r.j_per_token_est_95).toBeCloseTo((95 * 8) / 8000, 9)
    expect(r.j_per_token_est_115).toBeCloseTo((115 * 8) / 8000, 9)
    expect(r.vram_peak_mib).toBe(6000)
    expect(r.torch_peak_allocated_mib).toBe(3209)
    expect(r.loss_first).toBeCloseTo(3)
    expect(r.loss_last).toBeCloseTo(2.1)
    expect(r.steady).toBe(true)
  })

  it("applies the schema idempotently and keeps every row across reopenings", async () => {
    const path = tmp()
    await withLedger(path, recordSyntheticRun("run-a"))
    const counts = await withLedger(
      path,
      Effect.gen(function* () {
        const l = yield* Ledger
        return (yield* l.rows(
          `SELECT (SELECT count(*) FROM runs)::INT AS runs, (SELECT count(*) FROM steps)::INT AS steps, (SELECT count(*) FROM samples)::INT AS samples, (SELECT count(*) FROM results)::INT AS results`
        ))[0]
      })
    )
    expect(counts).toEqual({ runs: 1, steps: 10, samples: 111, results: 1 })
  })

  it("marks runs left running by a dead runner as interrupted, and resumes only succeeded cells", async () => {
    const path = tmp()
    const out = await withLedger(
      path,
      Effect.gen(function* () {
        yield* recordSyntheticRun("done")
        yield* startRun({
          runId: "orphan",
          cellHash: "d".repeat(64),
          envHash: env.envHash,
          gridHash: null,
          seed: 42,
          repeat: 0,
          origin: "live",
          startedAt: t0,
          rerunOf: null
        })
        const orphans = yield* markOrphansInterrupted
        const status = (yield* (yield* Ledger).rows(`SELECT status FROM runs WHERE run_id = 'orphan'`))[0]!.status
        return { orphans, status, done: [...(yield* succeededKeys(env.envHash))], other: [...(yield* succeededKeys("other-env"))] }
      })
    )
    expect(out).toEqual({ orphans: ["orphan"], status: "interrupted", done: [`${"c".repeat(64)}#0`], other: [] })
  })

  it("opens read-only for queries and refuses writes there", async () => {
    const path = tmp()
    await withLedger(path, recordSyntheticRun("ro"))
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const l = yield* Ledger
          const rows = yield* l.rows(`SELECT tok_s FROM table1`)
          const write = yield* Effect.flip(l.exec(`DELETE FROM runs`))
          return { rows, write: write.message }
        }).pipe(Effect.provide(Layer.fresh(Ledger.layerReadOnly(path))))
      )
    )
    expect(result.rows).toHaveLength(1)
    expect(result.write).toMatch(/read-only/)
  })
})
