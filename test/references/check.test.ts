// ledger/references.sql on a real DuckDB ledger: published figures beside measured runs (ratio,
// whether the published value lies inside the measured 95% CI, the reading closest to a published
// VRAM peak, MB against MiB), and each reference's own arithmetic recomputed and flagged.
import { Effect } from "effect"
import { execa } from "execa"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { HashedCell } from "../../src/cells.ts"
import type { Reference } from "../../src/grid/reference.ts"
import type { Measure } from "../../src/grid/schema.ts"
import { Ledger, type Row } from "../../src/ledger/Ledger.ts"
import { endRun, putCell, recordTrainerEvent, startRun } from "../../src/ledger/records.ts"
import type { TrainerEvent } from "../../src/protocol.ts"
import { putReferences } from "../../src/references/record.ts"

const measure: Measure = { warmup: { steps: 2 }, window: { steps: 24 }, ciTarget: null, maxSteps: 100, maxSeconds: 600 }
const t0 = 1_700_000_000

/** A succeeded run of 26 steps of 100 real tokens, ~0.2 s each (±10%), torch peak reserved `peakMib`. */
const recordRun = (runId: string, cellHash: string, peakMib: number) =>
  Effect.gen(function* () {
    yield* putCell({ cellHash, label: runId, config: {}, seed: 42, measure, axisValues: {}, trainerDigest: "t", datasetDigest: "d" })
    yield* startRun({
      runId,
      cellHash,
      envHash: "env",
      gridHash: "grid",
      seed: 42,
      repeat: 0,
      origin: "live",
      startedAt: t0,
      rerunOf: null
    })
    let t = t0
    for (let i = 0; i < 26; i++) {
      const d = 0.2 * (1 + 0.1 * Math.sin(i * 1.7))
      yield* recordTrainerEvent(runId, {
        event: "step",
        t: t + d,
        step: i,
        t_start: t,
        t_end: t + d,
        tokens: 100,
        padded_tokens: 120,
        samples: 1,
        loss: 2,
        lr: 1e-4,
        grad_norm: 1,
        mem_allocated_mib: 3000,
        mem_reserved_mib: peakMib,
        mem_peak_allocated_mib: 3000,
        mem_peak_reserved_mib: peakMib,
        phase: i < 2 ? "warmup" : "window"
      } as TrainerEvent)
      t += d
    }
    yield* endRun(runId, {
      status: "succeeded",
      endedAt: t + 1,
      finishReason: "window_complete",
      errorKind: null,
      errorMessage: null,
      errorDetail: null,
      exitCode: 0,
      exitSignal: null,
      stderrTail: null
    })
    return (yield* (yield* Ledger).rows(`SELECT tok_s, tok_s_ci_half FROM results WHERE run_id = $1`, [runId]))[0]!
  })

const referenced = (cellHash: string, reference: Reference) => ({ cellHash, reference }) as unknown as HashedCell

// the study's runs 1 and 2 as Table 1 and Table 2 print them
const run1: Omit<Reference, "tokS"> = {
  source: "study run 1",
  tokens: 1717908,
  wallS: 3494,
  warmupS: 60,
  t10kS: 19.99,
  steps: 10500,
  vramPeak: { value: 6234, unit: "MB", method: "nvidia-smi" },
  jPerToken: [{ value: 0.19, watts: 95, method: "assumed 95 W × time" }]
}
const run2: Reference = { source: "study run 2", tokS: 628.1, t10kS: 15.93, tokens: 573206, wallS: 972.6, warmupS: 60 }

const withLedger = <A>(body: Effect.Effect<A, unknown, Ledger>, file = join(mkdtempSync(join(tmpdir(), "tunegrid-refs-")), "l.duckdb")) =>
  Effect.runPromise(Effect.scoped(body.pipe(Effect.provide(Ledger.layer(file))))) as Promise<A>

const cli = (args: Array<string>) =>
  execa(process.execPath, [join(import.meta.dirname, "../../src/cli.ts"), ...args], { reject: false, env: { NO_COLOR: "1" } })

describe("reference_check and reference_arithmetic", () => {
  it("puts each published figure beside the measurement: ratio, inside the 95% CI or not, the closest reading, both units of MB", async () => {
    const { rows, a, b } = await withLedger(
      Effect.gen(function* () {
        const a = yield* recordRun("run-aaaa", "cell-a", 5900) // two readings of one published run
        const b = yield* recordRun("run-bbbb", "cell-b", 7000)
        const tokS = a.tok_s as number
        // published at the measured rate × 1.001 (inside a CI of a few %) for a, × 2 (outside) for b
        yield* putReferences("grid", [
          referenced("cell-a", { ...run1, tokS: Math.round(tokS * 1.001 * 10) / 10 }),
          referenced("cell-b", { ...run1, source: "study run 1 (b)", tokS: Math.round(tokS * 2 * 10) / 10 })
        ])
        const l = yield* Ledger
        return { rows: yield* l.rows(`SELECT * FROM reference_check`), a, b }
      })
    )
    const get = (run: string, figure: string): Row => rows.find((r) => r.run === run && r.figure === figure)!
    const tokA = get("run-aaaa", "tok_s")
    expect(tokA.ratio as number).toBeCloseTo((a.tok_s as number) / (tokA.published as number), 4)
    expect(tokA.inside_ci).toBe(true)
    expect(get("run-bbbb", "tok_s").inside_ci).toBe(false)
    expect(get("run-bbbb", "tok_s").ratio as number).toBeCloseTo(0.5, 2)
    expect(tokA.measured_method).toMatch(/95% CI by batch means/)
    expect((b.tok_s_ci_half as number) > 0).toBe(true)
    // 6234 MB = 5945.2 MiB; read as nvidia-smi's MiB, 6234
    const vramA = get("run-aaaa", "vram_peak")
    expect(vramA.published_in as number).toBeCloseTo(6234e6 / 2 ** 20, 3)
    expect(vramA.published_alt).toBe(6234)
    expect(vramA.ratio as number).toBeCloseTo(5900 / (6234e6 / 2 ** 20), 3)
    expect(vramA.ratio_alt as number).toBeCloseTo(5900 / 6234, 3)
    expect(vramA.note).toMatch(/MiB/)
    // the J/token estimate by the source's method on tunegrid's time: 95 W / tok/s, its CI from the tok/s CI
    const j = get("run-aaaa", "j_per_token at 95 W")
    expect(j.measured as number).toBeCloseTo(95 / (a.tok_s as number), 9)
    expect(j.published_method).toMatch(/assumed 95 W/)
    // extent figures are shown but not compared
    expect(get("run-aaaa", "steps")).toMatchObject({ comparable: false, ratio: null, published: 10500, measured: 26 })
    expect(get("run-aaaa", "tokens_per_step").published as number).toBeCloseTo(1717908 / 10500, 6)
  })

  it("marks the reading closest to a shared published VRAM peak", async () => {
    const rows = await withLedger(
      Effect.gen(function* () {
        yield* recordRun("run-near", "cell-near", 6100)
        yield* recordRun("run-far", "cell-far", 8000)
        yield* putReferences("grid", [referenced("cell-near", { ...run1, tokS: 500.3 }), referenced("cell-far", { ...run1, tokS: 500.3 })])
        return yield* (yield* Ledger).rows(`SELECT run, closest FROM reference_check WHERE figure = 'vram_peak' ORDER BY run`)
      })
    )
    expect(rows).toEqual([
      { run: "run-far", closest: false },
      { run: "run-near", closest: true }
    ])
  })

  it("recomputes a reference's derived figures and flags the ones that do not hold, with the gap", async () => {
    const rows = await withLedger(
      Effect.gen(function* () {
        yield* putReferences("grid", [referenced("cell-1", { ...run1, tokS: 500.3 }), referenced("cell-2", run2)])
        return yield* (yield* Ledger).rows(`SELECT * FROM reference_arithmetic`)
      })
    )
    const check = (source: string, name: string) => rows.find((r) => r.source === source && r.check === name)!
    // 1,717,908 tokens / 3,494 s = 491.68 tok/s, printed 500.3: off by +1.75%
    const wall = check("study run 1", "tok_s = tokens / wall_s")
    expect(wall.recomputed as number).toBeCloseTo(1717908 / 3494, 6)
    expect(wall.holds).toBe(false)
    expect(wall.gap_pct as number).toBeCloseTo(100 * (500.3 / (1717908 / 3494) - 1), 2)
    // over the time after the 60 s warm-up it holds: 1,717,908 / 3,434 = 500.26
    expect(check("study run 1", "tok_s = tokens / (wall_s − 60 s warm-up)").holds).toBe(true)
    expect(check("study run 1", "t10k_s = 10,000 / tok_s").holds).toBe(true)
    expect(check("study run 1", "j_per_token = 95 W / tok_s").holds).toBe(true)
    // run 2: T10k printed 15.93, 10,000 / 628.1 = 15.921
    const t10k = check("study run 2", "t10k_s = 10,000 / tok_s")
    expect(t10k.holds).toBe(false)
    expect(t10k.gap_pct as number).toBeCloseTo(100 * (15.93 / (10000 / 628.1) - 1), 2)
  })

  it("tunegrid report shows the measured-vs-published and arithmetic sections (md and json)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tunegrid-refs-")), "l.duckdb")
    await withLedger(
      Effect.gen(function* () {
        yield* recordRun("run-rrrr", "cell-r", 6000)
        yield* putReferences("grid", [referenced("cell-r", { ...run1, tokS: 500.3 })])
      }),
      file
    )
    const md = await cli(["report", "--ledger", file, "--format", "md"])
    expect(md.exitCode).toBe(0)
    expect(md.stdout).toMatch(/## Measured vs published/)
    expect(md.stdout).toMatch(/\| run-rrrr \|[^\n]*\| vram_peak \| 6234 \| MB \| 5945 \| 6234 \|/)
    expect(md.stdout).toMatch(
      /## Published arithmetic[\s\S]*\| study run 1 \| tok_s = tokens \/ wall_s \| 500\.3 \| 491\.7 \| 1\.754 \| false \|/
    )
    const json = JSON.parse((await cli(["report", "--ledger", file, "--format", "json"])).stdout) as Record<string, { rows: Array<Row> }>
    expect(json.measured_vs_published!.rows.find((r) => r.figure === "vram_peak")).toMatchObject({ published: 6234, unit: "MB" })
    expect(json.published_arithmetic!.rows.filter((r) => r.holds === false).map((r) => r.check)).toEqual(["tok_s = tokens / wall_s"])
  }, 120_000) // two CLI processes on a shared machine
})
