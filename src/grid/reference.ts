// A published figure set that rides along with a grid cell (a paper's table row, a blog's VRAM
// claim), so the report can put tunegrid's measurement beside it. Stored with the grid and in
// the ledger's `cell_references`, never in the cell hash: correcting a reference re-measures nothing.
import { Schema } from "effect"

const Positive = Schema.Number.pipe(Schema.check(Schema.isGreaterThan(0)))
const NonNegative = Schema.Number.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

/** A memory figure in the unit the source printed: MB/GB are 10^6/10^9 bytes, MiB/GiB 2^20/2^30.
 * nvidia-smi prints MiB, so a source that says "MB" beside nvidia-smi may mean MiB: the report
 * shows both readings. */
export const ReferenceMemory = Schema.Struct({
  value: Positive,
  unit: Schema.Literals(["MB", "MiB", "GB", "GiB"]),
  /** How the source measured it, e.g. "nvidia-smi peak". */
  method: Schema.optionalKey(Schema.String)
})

/** Energy per token as the source computed it, with the power it assumed (W) and how. */
export const ReferenceEnergy = Schema.Struct({
  value: Positive,
  watts: Schema.optionalKey(Positive),
  method: Schema.String
})

export const Reference = Schema.Struct({
  /** Where the figures come from, e.g. "study Table 1 and Table 2, run 2 (RTX 4060 8 GB)". */
  source: Schema.NonEmptyString,
  /** Tokens per second as printed, and how the source measured it. */
  tokS: Schema.optionalKey(Positive),
  tokSMethod: Schema.optionalKey(Schema.String),
  /** Seconds per 10,000 tokens as printed. */
  t10kS: Schema.optionalKey(Positive),
  /** The source's whole run: wall time (s), tokens processed, optimizer steps. */
  wallS: Schema.optionalKey(Positive),
  tokens: Schema.optionalKey(PositiveInt),
  steps: Schema.optionalKey(PositiveInt),
  /** Seconds at the start of wallS the source calls warm-up (the study: 60 s), so a rate computed
   * over the time after it can be told from one over the whole run. */
  warmupS: Schema.optionalKey(NonNegative),
  vramPeak: Schema.optionalKey(ReferenceMemory),
  jPerToken: Schema.optionalKey(Schema.Array(ReferenceEnergy)),
  /** Final training loss as printed. */
  loss: Schema.optionalKey(Positive),
  /** The printed figures carry "~": approximate in the source itself. */
  approximate: Schema.optionalKey(Schema.Boolean),
  note: Schema.optionalKey(Schema.String)
})
export type Reference = typeof Reference.Type
