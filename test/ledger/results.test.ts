// ledger/results.sql on synthetic step and sample series in a real DuckDB file: the warm-up cut
// and the batch-means CI agree with the trainer's stop rule (tunegrid_trainer.stop, run as a real
// Python process on the same steps), runs that hit a limit or a wide CI are not `steady`, and the
// energy (counter / integrated / above idle), clock, memory and MFU figures follow their formulas.
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { specMeasure, trainerDir } from "../../src/cells.ts"
import type { Measure } from "../../src/grid/schema.ts"
import { Ledger, type Row } from "../../src/ledger/Ledger.ts"
import { endRun, putCell, recordSamplerEvent, recordTrainerEvent, startRun } from "../../src/ledger/records.ts"
import type { TrainerEvent } from "../../src/protocol.ts"
import { findPython, PythonNotFound, pythonEnv } from "../../src/trainer/python.ts"

const python = findPython(null)
const t0 = 1_700_000_000

/** Deterministic standard normals (mulberry32 + Box–Muller). */
const normals = (seed: number) => {
  let s = seed
  const uniform = () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

interface StepIn {
  readonly t_start: number
  readonly t_end: number
  readonly tokens: number
}

/** ~0.1 s steps of 900–1100 tokens; the first `transient` steps ramp from 3× slower; AR(1) noise. */
const makeSteps = (o: { n: number; transient: number; noise: number; phi: number; seed: number }): Array<StepIn> => {
  const z = normals(o.seed)
  const out: Array<StepIn> = []
  let t = t0
  let e = 0
  for (let i = 0; i < o.n; i++) {
    e = o.phi * e + z()
    const slow = i < o.transient ? 3 - (2 * i) / o.transient : 1
    const tokens = 900 + ((i * 37) % 201)
    const d = ((0.1 * slow * tokens) / 1000) * Math.exp(o.noise * e)
    out.push({ t_start: t, t_end: t + d, tokens })
    t += d + 0.002 // the loop's own time between steps belongs to the window too
  }
  return out
}

interface Replay {
  readonly steps: number
  readonly stop: string | null
  readonly phases: Array<"warmup" | "window" | "after">
  readonly warmup_steps: number
  readonly window_steps: number
  readonly tok_s: number | null
  readonly ci_half: number | null
  readonly ci_batches: number | null
}

const replay = (measure: Measure, steps: ReadonlyArray<StepIn>): Replay => {
  const py = python as { python: string }
  const out = execFileSync(py.python, ["-m", "tunegrid_trainer.stop"], {
    cwd: trainerDir,
    env: { ...process.env, ...pythonEnv() },
    input: JSON.stringify({ measure: specMeasure(measure), steps })
  })
  return JSON.parse(out.toString()) as Replay
}

const modelFacts = {
  name: "tiny",
  source: "preset",
  random_weights: true,
  architecture: "Qwen2ForCausalLM",
  layers: 2,
  hidden: 64,
  vocab: 1000,
  params: 1e6,
  trainable_params: 1e4,
  n_mm: 1e6,
  n_lora: 1e4,
  attn_flops_per_token_per_seq_len: 512,
  flops_per_token: 1e10,
  flops_per_token_hfu: 1.3e10,
  gpu_peak_tflops: 100,
  gpu_peak_name: "Test GPU"
}

interface SampleOpts {
  readonly counter: boolean
  readonly power: number
  readonly throttleEvery: number
  readonly mode?: "nvml" | "smi"
}

interface RunPlace {
  readonly gridHash: string | null
  readonly sentinel: number | null
  readonly cellHash?: string
}

/** Record one run (cell, sampler header with idle power, samples every 0.1 s, steps) and return its results row. */
const recordRun = (
  runId: string,
  measure: Measure,
  steps: ReadonlyArray<StepIn>,
  phases: ReadonlyArray<string>,
  finishReason: string,
  samples: SampleOpts | null,
  place: RunPlace = { gridHash: null, sentinel: null }
) =>
  Effect.gen(function* () {
    const cellHash = place.cellHash ?? `cell-${runId}`
    yield* putCell({ cellHash, label: runId, config: {}, seed: 0, measure, axisValues: {}, trainerDigest: "t", datasetDigest: "d" })
    yield* startRun({
      runId,
      cellHash,
      envHash: "env",
      gridHash: place.gridHash,
      seed: 0,
      repeat: place.sentinel ?? 0,
      origin: "live",
      startedAt: steps[0]!.t_start,
      rerunOf: null,
      sentinel: place.sentinel
    })
    yield* recordTrainerEvent(runId, {
      event: "started",
      t: t0,
      run_id: runId,
      cell_hash: cellHash,
      spec: {},
      model: modelFacts,
      data: {},
      env: {},
      warnings: []
    } as unknown as TrainerEvent)
    if (samples !== null) {
      yield* recordSamplerEvent(runId, {
        event: "sampler",
        t: t0,
        mode: samples.mode ?? "nvml",
        reason: "test",
        gpu_index: 0,
        gpu_name: "Test GPU",
        memory_total_mib: 8192,
        power_limit_w: 115,
        energy_counter: samples.counter,
        interval_ms: 100,
        idle_power_w: 40,
        idle_samples: 30
      })
      const end = steps.at(-1)!.t_end + 0.5
      for (let i = 0, t = t0 - 0.5; t <= end; i++, t += 0.1) {
        yield* recordSamplerEvent(runId, {
          event: "sample",
          t,
          energy_mj: samples.counter ? (t - t0) * samples.power * 1000 : null,
          power_w: samples.power,
          mem_used_mib: 5000 + (i === 7 ? 1000 : 0),
          util_pct: 99,
          sm_clock_mhz: i % samples.throttleEvery === 0 ? 1500 : 2000,
          temp_c: 60,
          throttle: i % samples.throttleEvery === 0 ? 4 : 0,
          host_rss_mib: null,
          host_cpu_pct: null
        })
      }
    }
    for (const [i, s] of steps.entries()) {
      yield* recordTrainerEvent(runId, {
        event: "step",
        t: s.t_end,
        step: i,
        t_start: s.t_start,
        t_end: s.t_end,
        tokens: s.tokens,
        padded_tokens: s.tokens + 24,
        samples: 4,
        loss: 2,
        lr: 1e-4,
        grad_norm: 1,
        mem_allocated_mib: 3000,
        mem_reserved_mib: 3500,
        mem_peak_allocated_mib: 3200,
        mem_peak_reserved_mib: 3600,
        phase: phases[i] as "warmup" | "window" | "after"
      })
    }
    yield* endRun(runId, {
      status: "succeeded",
      endedAt: steps.at(-1)!.t_end + 1,
      finishReason,
      errorKind: null,
      errorMessage: null,
      errorDetail: null,
      exitCode: 0,
      exitSignal: null,
      stderrTail: null
    })
    return (yield* (yield* Ledger).rows(`SELECT * FROM results WHERE run_id = $1`, [runId]))[0]!
  })

/** Replay the steps through the trainer's rule, keep what it ran, record that, return both views. */
const run = (runId: string, measure: Measure, all: ReadonlyArray<StepIn>, samples: SampleOpts | null = null) => {
  const verdict = replay(measure, all)
  const steps = all.slice(0, verdict.steps)
  const ledger = join(mkdtempSync(join(tmpdir(), "tunegrid-results-")), "l.duckdb")
  const row = Effect.runPromise(
    Effect.scoped(
      recordRun(runId, measure, steps, verdict.phases, verdict.stop ?? "stop_requested", samples).pipe(Effect.provide(Ledger.layer(ledger)))
    )
  )
  return row.then((r) => ({ verdict, row: r, steps }))
}

const detectAdaptive: Measure = {
  warmup: { detect: { floorSeconds: 1, capSeconds: 60 } },
  window: { adaptive: { minSeconds: 10 } },
  ciTarget: 0.02,
  maxSteps: 100_000,
  maxSeconds: 600
}

const expectAgreement = (verdict: Replay, row: Row) => {
  expect(row.warmup_steps).toBe(verdict.warmup_steps)
  expect(row.window_steps).toBe(verdict.window_steps)
  expect(row.ci_batches).toBe(verdict.ci_batches)
  expect(row.tok_s as number).toBeCloseTo(verdict.tok_s!, 6)
  expect(Math.abs((row.tok_s_ci_half as number) / verdict.ci_half! - 1)).toBeLessThan(1e-9)
}

describe.skipIf(python instanceof PythonNotFound)("results.sql", () => {
  it("cuts the detected warm-up and computes the CI exactly as the trainer's stop rule, and a run stopped at the CI target is steady", async () => {
    const { verdict, row } = await run("adaptive", detectAdaptive, makeSteps({ n: 3000, transient: 60, noise: 0.05, phi: 0.5, seed: 1 }))
    expect(verdict.stop).toBe("window_complete")
    expect(verdict.warmup_steps).toBeGreaterThanOrEqual(40)
    expect(verdict.warmup_steps).toBeLessThanOrEqual(80)
    expectAgreement(verdict, row)
    expect(row.tok_s_ci_rel as number).toBeLessThanOrEqual(0.02)
    expect(row.window_seconds as number).toBeGreaterThanOrEqual(10)
    expect(row).toMatchObject({ steady: true, warmup_method: "mser5", window_method: "adaptive", ci_target: 0.02 })
    expect(row.steady_reason).toMatch(/^CI ±\d\.\d\d% within the ±2\.00% target$/)
    const half = row.tok_s_ci_half as number
    const tokS = row.tok_s as number
    expect(row.t10k_s as number).toBeCloseTo(10_000 / tokS, 9)
    expect(row.t10k_ci_low_s as number).toBeCloseTo(10_000 / (tokS + half), 9)
    expect(row.t10k_ci_high_s as number).toBeCloseTo(10_000 / (tokS - half), 9)
  })

  it("marks a run that reached its time limit before the CI target as not steady, with the reason", async () => {
    const measure: Measure = { ...detectAdaptive, ciTarget: 0.002, maxSeconds: 30 }
    const { verdict, row } = await run("limit", measure, makeSteps({ n: 3000, transient: 0, noise: 0.2, phi: 0.98, seed: 2 }))
    expect(verdict.stop).toBe("max_seconds")
    expectAgreement(verdict, row)
    expect(row.steady).toBe(false)
    expect(row.steady_reason).toMatch(/^limit max_seconds reached before the window was steady \(CI ±\d+\.\d\d%\)$/)
  })

  it("marks a completed fixed window whose CI is wider than the target as not steady", async () => {
    const measure: Measure = { warmup: { steps: 5 }, window: { steps: 20 }, ciTarget: 0.02, maxSteps: 1000, maxSeconds: 600 }
    const { verdict, row } = await run("wide", measure, makeSteps({ n: 100, transient: 0, noise: 0.3, phi: 0.5, seed: 3 }))
    expect(verdict.stop).toBe("window_complete")
    expectAgreement(verdict, row)
    expect(row).toMatchObject({ warmup_steps: 5, window_steps: 20, warmup_method: "steps", window_method: "steps", steady: false })
    expect(row.steady_reason).toMatch(
      /wider than the ±2\.00% target: the window was too short to be steady; unreliable: wider than the ±25% sanity bound$/
    )
  })

  it("marks a completed window whose CI is wider than the ±25% sanity bound unreliable (not steady) even without a CI target", async () => {
    const measure: Measure = { warmup: { steps: 2 }, window: { steps: 12 }, ciTarget: null, maxSteps: 1000, maxSeconds: 600 }
    const { verdict, row } = await run("noisy", measure, makeSteps({ n: 14, transient: 0, noise: 1.2, phi: 0.3, seed: 7 }))
    expect(verdict.stop).toBe("window_complete")
    expect(row.tok_s_ci_rel as number).toBeGreaterThan(0.25)
    expect(row.steady).toBe(false)
    expect(row.steady_reason).toMatch(/^unreliable: CI ±\d+\.\d% is wider than the ±25% sanity bound$/)
  })

  it("labels the device-memory peak with the sampler that measured it: nvidia-smi polling reads smi, not nvml", async () => {
    const measure: Measure = { warmup: { steps: 2 }, window: { steps: 10 }, ciTarget: null, maxSteps: 1000, maxSeconds: 600 }
    const steps = makeSteps({ n: 12, transient: 0, noise: 0.01, phi: 0, seed: 5 })
    const phases = steps.map((_, i) => (i < 2 ? "warmup" : "window"))
    const ledger = join(mkdtempSync(join(tmpdir(), "tunegrid-results-")), "l.duckdb")
    const rows = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* recordRun("smi", measure, steps, phases, "window_complete", {
            counter: false,
            power: 150,
            throttleEvery: 1000,
            mode: "smi"
          })
          return yield* (yield* Ledger).rows(
            `SELECT vram_method, vram_peak_mib FROM table1 UNION ALL SELECT vram_method, vram_peak_mib FROM cell_summary`
          )
        }).pipe(Effect.provide(Ledger.layer(ledger)))
      )
    )
    expect(rows).toEqual([
      { vram_method: "smi", vram_peak_mib: 6000 },
      { vram_method: "smi", vram_peak_mib: 6000 }
    ])
  })

  it("stores counter energy over the window, gross and above idle, with the integrated cross-check and the estimates", async () => {
    const measure: Measure = { warmup: { steps: 10 }, window: { seconds: 5 }, ciTarget: null, maxSteps: 1000, maxSeconds: 600 }
    const { row } = await run("energy", measure, makeSteps({ n: 200, transient: 0, noise: 0.01, phi: 0, seed: 4 }), {
      counter: true,
      power: 100,
      throttleEvery: 4
    })
    const w = row.window_seconds as number
    const tokens = Number(row.tokens_window)
    expect(row.steady).toBe(true)
    expect(row.steady_reason).toMatch(/^window complete \(no CI target set; CI ±\d\.\d\d%\)$/)
    expect(row.energy_method).toBe("counter")
    expect(row.energy_j as number).toBeCloseTo(100 * w, 6)
    expect(row.energy_integrated_j as number).toBeCloseTo(100 * w, 6)
    expect(row.idle_power_w).toBe(40)
    expect(row.energy_above_idle_j as number).toBeCloseTo(60 * w, 6)
    expect(row.j_per_token_above_idle as number).toBeCloseTo((60 * w) / tokens, 9)
    expect(row.j_per_token as number).toBeCloseTo((100 * w) / tokens, 9)
    expect(row.j_per_token_est_95 as number).toBeCloseTo((95 * w) / tokens, 9)
    // every 4th sample is power-capped at 1500 MHz
    expect(row.throttle_reasons).toBe(4n)
    expect(row.throttled_fraction as number).toBeGreaterThan(0.2)
    expect(row.throttled_fraction as number).toBeLessThan(0.3)
    expect(row.sm_clock_min_mhz).toBe(1500)
    expect(row.sm_clock_mean_mhz as number).toBeCloseTo(2000 - 500 * (row.throttled_fraction as number), 6)
    // memory three ways and the headroom on an 8 GiB card
    expect(row).toMatchObject({
      vram_peak_mib: 6000,
      torch_peak_allocated_mib: 3200,
      torch_peak_reserved_mib: 3600,
      gpu_total_mib: 8192,
      vram_headroom_mib: 2192
    })
    // MFU against the 100 TFLOP/s peak; HFU adds the recompute
    expect(row.mfu as number).toBeCloseTo((1e10 * (row.tok_s as number)) / 1e14, 12)
    expect(row.hfu as number).toBeCloseTo((1.3e10 * (row.tok_s as number)) / 1e14, 12)
  })

  it("falls back to integrated power without an energy counter, and leaves energy empty without samples", async () => {
    const measure: Measure = { warmup: { steps: 10 }, window: { seconds: 5 }, ciTarget: null, maxSteps: 1000, maxSeconds: 600 }
    const steps = makeSteps({ n: 200, transient: 0, noise: 0.01, phi: 0, seed: 5 })
    const integrated = await run("integrated", measure, steps, { counter: false, power: 80, throttleEvery: 1000 })
    expect(integrated.row.energy_method).toBe("integrated")
    expect(integrated.row.energy_counter_j).toBeNull()
    expect(integrated.row.energy_j as number).toBeCloseTo(80 * (integrated.row.window_seconds as number), 6)
    expect(integrated.row.throttled_fraction).toBe(0)
    const none = await run("cpu", measure, steps, null)
    expect(none.row).toMatchObject({ energy_method: null, energy_j: null, j_per_token: null, idle_power_w: null, vram_headroom_mib: null })
    expect(none.row.j_per_token_est_115 as number).toBeGreaterThan(0)
  })
})

describe("sentinel.sql", () => {
  const fixed: Measure = { warmup: { steps: 5 }, window: { steps: 100 }, ciTarget: null, maxSteps: 1000, maxSeconds: 600 }
  /** 105 steps starting at `start`, ~`rate` tok/s with ±1% iid noise. */
  const steadySteps = (start: number, rate: number, seed: number): Array<StepIn> => {
    const z = normals(seed)
    let t = start
    return Array.from({ length: 105 }, () => {
      const d = (1000 / rate) * (1 + 0.01 * z())
      const s = { t_start: t, t_end: t + d, tokens: 1000 }
      t += d
      return s
    })
  }
  const phases = Array.from({ length: 105 }, (_, i) => (i < 5 ? "warmup" : "window"))

  it("flags the runs between two sentinel runs whose tok/s moved beyond their CIs, and only those", async () => {
    const ledger = join(mkdtempSync(join(tmpdir(), "tunegrid-sentinel-")), "l.duckdb")
    const plan: Array<[string, number, number | null]> = [
      ["s0", 1000, 0],
      ["a", 700, null],
      ["s1", 1000, 1],
      ["b", 500, null],
      ["s2", 800, 2],
      ["c", 600, null]
    ]
    const rows = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          for (const [i, [runId, rate, sentinel]] of plan.entries()) {
            const place = { gridHash: "grid", sentinel, ...(sentinel !== null ? { cellHash: "cell-sentinel" } : {}) }
            // the sentinels replay one noise series (same seed), so only their rate differs
            yield* recordRun(
              runId,
              fixed,
              steadySteps(t0 + 1000 * i, rate, sentinel !== null ? 99 : i + 1),
              phases,
              "window_complete",
              null,
              place
            )
          }
          return yield* (yield* Ledger).rows(
            `SELECT run_id, sentinel_drift, tok_s_ci_rel, tok_s, tok_s_ci_half FROM results ORDER BY run_id`
          )
        }).pipe(Effect.provide(Ledger.layer(ledger)))
      )
    )
    const drift = Object.fromEntries(rows.map((r) => [r.run_id, r.sentinel_drift]))
    expect(drift).toEqual({ a: false, b: true, c: null, s0: null, s1: null, s2: null })
    for (const r of rows) expect(r.tok_s_ci_rel as number).toBeLessThan(0.01) // 1000 vs 800 is far beyond CIs of < 1%
  })
})
