// Rerunning a run from the ledger: find the source run, rebuild its exact resolved cell from the
// `cells` row (not from today's grid file), check that the trainer sources and dataset are still
// the ones it was hashed with, run it once more through the scheduler's single-run path (a new
// run with rerun_of set), then judge the result against the source with src/rerun/compare.ts.
import { Effect, Result, Schema } from "effect"
import { dirname, resolve } from "node:path"
import { datasetDigest, hashCell, repoRoot, scriptInput, trainerDigest, type HashedCell } from "../cells.ts"
import { gitState, makeEnvironment } from "../env.ts"
import { defaultCell } from "../grid/defaults.ts"
import { applyOverride } from "../grid/load.ts"
import { CellConfig, type Measure } from "../grid/schema.ts"
import { Ledger } from "../ledger/Ledger.ts"
import { markOrphansInterrupted, putCell, putEnvironment } from "../ledger/records.ts"
import {
  cellScript,
  gridSourcePath,
  rerunsOf,
  runFigures,
  runLosses,
  runsMatching,
  sourceRun,
  storedCell,
  storedEnvironment,
  type StoredCell
} from "../ledger/rerun.ts"
import type { Progress, RunControl } from "../progress.ts"
import { cellRow } from "../recorder.ts"
import { runOne, stopLeftoversOf } from "../scheduler.ts"
import { renderEnvironment, renderHeader } from "./render.ts"
import { probeEnvironment } from "../trainer/probe.ts"
import { compareFigure, compareLoss, decide, diffFields, resolvePrefix, type Check, type Match } from "./compare.ts"
import type { RerunReport } from "./report.ts"

export type { RerunReport } from "./report.ts"

/** Why a rerun cannot start: the prefix names no single succeeded run, or the stored cell is unusable. */
export class RerunProblem extends Schema.TaggedError<RerunProblem>()("RerunProblem", { message: Schema.String }) {}

export interface RerunOptions {
  readonly prefix: string
  readonly python: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly force: boolean
  /** Relative tolerance for throughput and energy without CIs, e.g. 0.1 = ±10%. */
  readonly tolerance: number
  /** Relative per-step loss tolerance when bit-identity is not expected. */
  readonly lossTolerance: number
  /** `field=value` changes to the stored cell (--set): the rerun is then a new cell (new hash). */
  readonly overrides?: ReadonlyArray<string>
  readonly stallTimeoutMs?: number
  readonly progress: Progress
  /** Keyboard requests from the TUI (s skips, q stops the rerun). */
  readonly control?: RunControl
  /** Where the report's opening (what is rerun, the environment diff) goes before the run starts. */
  readonly say: (text: string) => void
}

/** The row a read found, or why the rerun cannot go on without it. */
const one = <A>(found: A | null, what: string) =>
  found !== null ? Effect.succeed(found) : Effect.fail(new RerunProblem({ message: `the ledger has no ${what}` }))

/** The stop rule as stored with the cell (ledger column cells.measure). */
const StoredMeasure = Schema.Struct({
  warmup: Schema.Union([
    Schema.Struct({ steps: Schema.Number }),
    Schema.Struct({ seconds: Schema.Number }),
    Schema.Struct({ detect: Schema.Struct({ floorSeconds: Schema.Number, capSeconds: Schema.Number }) })
  ]),
  window: Schema.Union([
    Schema.Struct({ steps: Schema.Number }),
    Schema.Struct({ seconds: Schema.Number }),
    Schema.Struct({ adaptive: Schema.Struct({ minSeconds: Schema.Number }) })
  ]),
  ciTarget: Schema.NullOr(Schema.Number),
  maxSteps: Schema.Number,
  maxSeconds: Schema.Number
})

const decodeMeasure = (cell: StoredCell): Effect.Effect<Measure, RerunProblem> => {
  const decoded = Schema.decodeUnknownResult(StoredMeasure)(cell.measure, { onExcessProperty: "ignore" })
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(
        new RerunProblem({
          message: `cell ${cell.cellHash.slice(0, 12)}: its stored stop rule (measure) does not decode: ${decoded.failure.message}`
        })
      )
}

/** The stored cell, as the trainer will see it. Fields added since it was recorded take their
 * defaults; `overrides` (--set field=value, "base." optional) change fields of it. */
const decodeCell = (row: StoredCell, overrides: ReadonlyArray<string> = []) => {
  const config: Record<string, unknown> = { ...defaultCell, ...row.config }
  for (const assignment of overrides) {
    const problem = applyOverride(config, assignment.replace(/^\s*base\./, ""))
    if (problem) return Effect.fail(new RerunProblem({ message: `--set ${assignment}: ${problem}` }))
  }
  const decoded = Schema.decodeUnknownResult(CellConfig)(config, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(decoded)) {
    const what = overrides.length > 0 ? `with --set ${overrides.join(" ")}` : "its stored config"
    return Effect.fail(
      new RerunProblem({
        message: `cell ${row.cellHash.slice(0, 12)} ${what} does not decode (cell fields are camelCase, e.g. --set batchSize=2): ${decoded.failure.message}`
      })
    )
  }
  return Effect.succeed(decoded.success)
}

export const rerun = Effect.fnUntraced(function* (o: RerunOptions) {
  const l = yield* Ledger
  yield* stopLeftoversOf(yield* markOrphansInterrupted, resolve(dirname(resolve(l.path)), ".tunegrid", "runs"))
  const matches: ReadonlyArray<Match> = yield* runsMatching(o.prefix)
  const resolved = resolvePrefix(o.prefix, matches)
  if (resolved._tag === "Problem") return yield* new RerunProblem({ message: resolved.message })
  const source = resolved.run

  const run = yield* one(yield* sourceRun(source.runId), `run ${source.runId}`)
  const cellRowStored = yield* one(yield* storedCell(source.cellHash), `cell ${source.cellHash}`)
  const oldEnv = yield* one(yield* storedEnvironment(run.env_hash), `environment ${run.env_hash}`)
  const gridSource = yield* gridSourcePath(run.grid_hash)
  const stored = yield* decodeCell(cellRowStored)
  const config = yield* decodeCell(cellRowStored, o.overrides ?? [])
  const overridden = diffFields({ ...stored }, { ...config }).changed.map((c) => ({ ...c, field: `cell.${c.field}` }))
  const measure = yield* decodeMeasure(cellRowStored)
  const seed = cellRowStored.seed

  // The inputs the cell hash was made from, then and now.
  const baseDir = gridSource !== null ? dirname(gridSource) : repoRoot
  const trainerNow = trainerDigest()
  const datasetNow = yield* Effect.try({
    try: () => datasetDigest(config, baseDir),
    catch: (e) => new RerunProblem({ message: `cannot read the cell's dataset: ${e instanceof Error ? e.message : String(e)}` })
  })
  // a script cell's script is an input too: its path and content digest, then and now
  const scriptThen = yield* cellScript(source.cellHash)
  const scriptNow = yield* Effect.try({
    try: () => scriptInput(config, baseDir),
    catch: (e) => new RerunProblem({ message: `cannot read the cell's script: ${e instanceof Error ? e.message : String(e)}` })
  })
  const scriptFact = (s: { readonly path?: unknown; readonly digest?: unknown } | null | undefined) =>
    s ? `${String(s.path)} sha256:${String(s.digest)}` : null
  const scripted = config.script !== null
  const inputs = diffFields(
    {
      trainer_source: cellRowStored.trainerDigest,
      dataset: cellRowStored.datasetDigest,
      ...(scripted ? { script: scriptFact(scriptThen) } : {})
    },
    { trainer_source: trainerNow, dataset: datasetNow, ...(scripted ? { script: scriptFact(scriptNow) } : {}) }
  ).changed

  const facts = yield* probeEnvironment(o.python)
  const env = makeEnvironment(facts, gitState(repoRoot))
  const envDiff = diffFields(oldEnv.hashed, env.hashed)
  const oldFacts = oldEnv.facts
  const recordedOnly = diffFields(
    {
      hostname: oldFacts.hostname ?? null,
      gpu_uuid: oldFacts.gpu_uuid ?? null,
      git_commit: oldFacts.git_commit ?? null,
      git_dirty: oldFacts.git_dirty ?? null
    },
    { hostname: env.facts.hostname, gpu_uuid: env.facts.gpu_uuid, git_commit: env.facts.git_commit, git_dirty: env.facts.git_dirty }
  ).changed
  const base = {
    source: {
      runId: source.runId,
      cellHash: source.cellHash,
      label: source.label,
      via: resolved.via,
      seed,
      deterministic: config.deterministic
    },
    environment: { changed: envDiff.changed, same: envDiff.same, recordedOnly },
    inputs: [...inputs, ...overridden]
  }

  o.say([renderHeader(base), renderEnvironment(base), ""].join("\n"))
  if (inputs.length > 0 && !o.force) {
    return {
      ...base,
      newRunId: null,
      checks: [],
      verdict: "refused",
      exitCode: 6,
      note: "the cell's inputs changed since the original run; --force runs it anyway"
    } satisfies RerunReport
  }

  // Same inputs: the same cell. Changed inputs (with --force) or fields (--set): honestly a new cell hash.
  const expanded = { index: 0, label: cellRowStored.label, config, seed, axisValues: cellRowStored.axisValues }
  const cell: HashedCell =
    base.inputs.length === 0
      ? {
          ...expanded,
          cellHash: source.cellHash,
          trainerDigest: cellRowStored.trainerDigest,
          datasetDigest: cellRowStored.datasetDigest,
          script: scriptNow
        }
      : hashCell(expanded, measure, trainerNow, datasetNow, scriptNow)
  yield* putEnvironment(env)
  if (base.inputs.length > 0) yield* putCell(cellRow(cell, measure))

  const artifacts = resolve(dirname(resolve(l.path)), ".tunegrid", "runs")
  const before = new Set(yield* rerunsOf(source.runId))
  o.progress.plan({
    grid: `rerun of ${source.runId.slice(0, 8)}`,
    cells: 1,
    runs: 1,
    toRun: 1,
    ledger: l.path,
    envHash: env.envHash,
    device: facts.gpu_name ?? facts.device,
    gpuMemoryMib: facts.gpu_memory_mib,
    measure,
    rows: [{ position: "rerun", cellHash: cell.cellHash, repeat: Number(run.repeat), label: cell.label, axisValues: cell.axisValues }]
  })
  const status = yield* runOne({
    ...o,
    baseDir,
    cell,
    repeat: Number(run.repeat),
    sentinel: null,
    position: "rerun",
    envHash: env.envHash,
    gridHash: (run.grid_hash as string | null) ?? null,
    measure,
    artifacts,
    rerunOf: source.runId
  })
  const newRunId = (yield* rerunsOf(source.runId)).find((id) => !before.has(id)) ?? null
  if (status !== "succeeded" || newRunId === null) {
    return { ...base, newRunId, checks: [], verdict: "rerun failed", exitCode: 5, note: `the rerun ended ${status}` } satisfies RerunReport
  }

  const environmentChanged = envDiff.changed.length > 0 || base.inputs.length > 0
  const [a, b] = [yield* runFigures(source.runId), yield* runFigures(newRunId)]
  const byStepsWindow = "steps" in measure.window
  const exact = config.deterministic && !environmentChanged
  const why = exact
    ? "deterministic mode, same environment"
    : environmentChanged
      ? "the environment changed, so bit-identity is not expected"
      : "deterministic mode off: kernels may reduce in a different order"
  const checks: Array<Check> = [
    compareLoss(yield* runLosses(source.runId), yield* runLosses(newRunId), {
      exact,
      tolerance: o.lossTolerance,
      why,
      sameStepCount: byStepsWindow
    }),
    compareFigure("throughput", "tok/s", a.tokS, b.tokS, o.tolerance, "no steady window"),
    compareFigure("energy", "J/token", a.jPerToken, b.jPerToken, o.tolerance, "no GPU energy counter or power samples")
  ]
  return { ...base, newRunId, checks, ...decide({ environmentChanged, checks }) } satisfies RerunReport
})
