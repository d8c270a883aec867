// One fit probe: a budgeted cell run for a few optimizer steps on the largest micro-batch its data
// produces (spec `probe`), in fresh trainer and sampler processes like any run, but recorded as a
// fit_probes row (fits / oom, peak memory) rather than as a run: a probe measures memory, not speed,
// so it stays out of Table 1 and the speed views. Its events are kept beside the ledger for audit.
import { Deferred, Effect } from "effect"
import { randomUUID } from "node:crypto"
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { hashJson } from "../hash.ts"
import { offlineTokenizerDir, toSpec, type HashedCell } from "../cells.ts"
import type { CellConfig, Measure } from "../grid/schema.ts"
import type { Memory } from "../protocol.ts"
import { runCellProcesses } from "../trainer/CellProcess.ts"
import { decideOutcome } from "../trainer/outcome.ts"
import type { ProbeOutcome, ProbeResult } from "../ledger/fit.ts"

export type { ProbeResult } from "../ledger/fit.ts"

/** A probe's stop rule: one warm-up step, then steps − 1 more; no CI target. */
export const probeMeasure = (steps: number): Measure => ({
  warmup: { steps: 1 },
  window: { steps: Math.max(1, steps - 1) },
  ciTarget: null,
  maxSteps: steps,
  maxSeconds: 900
})

/** A probe's identity: the cell's, marked as a probe (its batches are the largest, not the data's order). */
export const probeCell = (cell: HashedCell, config: CellConfig, measure: Measure): HashedCell => ({
  ...cell,
  config,
  reference: null,
  cellHash: hashJson({ config, seed: cell.seed, measure, trainer: cell.trainerDigest, dataset: cell.datasetDigest, probe: true })
})

export interface ProbeOptions {
  readonly python: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly stallTimeoutMs: number
  readonly baseDir: string
  /** Folder the probe's spec, events and stderr are written to (one subfolder per probe). */
  readonly dir: string
}

export const runProbe = (o: ProbeOptions, cell: HashedCell, measure: Measure) =>
  Effect.gen(function* () {
    const probeId = randomUUID()
    const dir = join(o.dir, probeId)
    mkdirSync(dir, { recursive: true })
    const spec = { ...toSpec(cell, measure, probeId, { baseDir: o.baseDir, tokenizerDir: offlineTokenizerDir() }), probe: true }
    const specPath = join(dir, "cell.json")
    writeFileSync(specPath, JSON.stringify(spec, null, 2))
    const startedAt = Date.now() / 1000
    let memory: Memory | null = null
    let steps = 0
    let devicePeak: number | null = null
    const evidence = yield* runCellProcesses({
      python: o.python,
      specPath,
      stderrPath: join(dir, "stderr.log"),
      samplerStderrPath: join(dir, "sampler.stderr.log"),
      samplerMode: o.samplerMode,
      sampleIntervalMs: 100,
      idleMs: 0,
      stallTimeoutMs: o.stallTimeoutMs,
      stop: yield* Deferred.make<"skip" | "interrupt">(),
      onTrainer: (event) =>
        Effect.sync(() => {
          appendFileSync(join(dir, "trainer.jsonl"), JSON.stringify(event) + "\n")
          if (event.event === "memory") memory = event
          if (event.event === "step") steps = event.step + 1
        }),
      onSampler: (event) =>
        Effect.sync(() => {
          if (event.event === "sample" && event.mem_used_mib !== null) devicePeak = Math.max(devicePeak ?? 0, event.mem_used_mib)
        })
    })
    const end = decideOutcome(evidence)
    const outcome: ProbeOutcome =
      end.status === "succeeded" ? "completed" : end.status === "failed" ? (end.errorKind === "oom" ? "oom" : "failed") : "interrupted"
    const m = memory as Memory | null
    return {
      probeId,
      outcome,
      steps,
      devicePeakMib: devicePeak,
      torchPeakAllocatedMib: m?.torch_peak_allocated_mib ?? null,
      torchPeakReservedMib: m?.torch_peak_reserved_mib ?? null,
      outsideTorchMib: m?.outside_torch_mib ?? null,
      pagedMib: m?.paged_mib ?? null,
      errorKind: end.errorKind,
      message: end.errorMessage,
      startedAt,
      endedAt: end.endedAt
    } satisfies ProbeResult
  })
