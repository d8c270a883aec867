// Python-only runs: `plan` writes a grid's cell specs (and a manifest) for a machine without
// Node; `python -m tunegrid_trainer.batch` runs them there; `ingest` records the resulting run
// folders here through the same record functions a live run uses, so the rows are the same.
import { Effect, Result, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { offlineTokenizerDir, repoRoot, toSpec, type HashedCell } from "./cells.ts"
import { gitState, makeEnvironment } from "./env.ts"
import type { LoadedGrid } from "./grid/load.ts"
import type { Measure } from "./grid/schema.ts"
import {
  endRun,
  putCell,
  putEnvironment,
  putGrid,
  recordSamplerEvent,
  recordTrainerEvent,
  startRun,
  type GridRow
} from "./ledger/records.ts"
import { runIds } from "./ledger/runs.ts"
import { decodeSamplerLine, decodeTrainerLine, EnvFacts, trainerSequence, type TrainerEvent } from "./protocol.ts"
import { cellRow, prepareGrid } from "./recorder.ts"
import { putReferences } from "./references/record.ts"
import { decideOutcome, tail, tailOfFile, terminalOf, type Evidence } from "./trainer/outcome.ts"

export class IngestError extends Schema.TaggedError<IngestError>()("IngestError", { message: Schema.String }) {}

export interface Manifest {
  readonly grid: GridRow
  readonly measure: Measure
  readonly cells: ReadonlyArray<HashedCell>
  readonly runs: ReadonlyArray<{
    readonly file: string
    readonly runId: string
    readonly cellHash: string
    readonly repeat: number
    readonly sentinel?: number | null
  }>
}

/** Write one spec per planned run plus manifest.json into `out`. */
export const writePlan = (loaded: LoadedGrid, out: string, tokenizerDir: string | null) => {
  const prepared = prepareGrid(loaded)
  const byIndex = new Map(prepared.cells.map((c) => [c.index, c]))
  mkdirSync(out, { recursive: true })
  const width = Math.max(3, String(loaded.expansion.runs.length - 1).length)
  const runs = loaded.expansion.runs.map((r, i) => {
    const cell = byIndex.get(r.cell.index)!
    const runId = randomUUID()
    // Zero-padded to the plan's size, so file-name order (the batch runner's, and a Slurm task's
    // index) is plan order past 999 runs too.
    const file = `${String(i).padStart(width, "0")}-${cell.cellHash.slice(0, 12)}-r${r.repeat}.json`
    const spec = toSpec(cell, loaded.expansion.measure, runId, {
      baseDir: dirname(loaded.file),
      tokenizerDir: tokenizerDir ?? offlineTokenizerDir()
    })
    writeFileSync(join(out, file), JSON.stringify(spec, null, 2))
    return { file, runId, cellHash: cell.cellHash, repeat: r.repeat, sentinel: r.sentinel ?? null }
  })
  const manifest: Manifest = { grid: prepared.grid, measure: loaded.expansion.measure, cells: prepared.cells, runs }
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2))
  return manifest
}

/** A caller's say on one run folder before it is recorded (the Slurm collector: has the task
 * ended, and did Slurm end it?). `killed` records the run failed with that kind and message. */
export type FolderVerdict =
  | { readonly record: false }
  | { readonly record: true; readonly killed?: { readonly kind: string; readonly message: string; readonly detail: string | null } }

export const readLines = (path: string) =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.trim().length > 0)
    : []

export const readJson = <A>(path: string, what: string): Effect.Effect<A, IngestError> =>
  Effect.try({
    try: () => JSON.parse(readFileSync(path, "utf8")) as A,
    catch: (e) => new IngestError({ message: `${what} ${path} could not be read: ${e instanceof Error ? e.message : String(e)}` })
  })

/** Record every run folder under `dir` that the ledger does not have yet. */
export const ingestDir = Effect.fnUntraced(function* (dir: string, judge?: (folder: string) => FolderVerdict) {
  const root = resolve(dir)
  const manifest = yield* readJson<Manifest>(
    join(root, "manifest.json"),
    "manifest (copied by tunegrid_trainer.batch from the plan folder)"
  )
  const cellsByHash = new Map(manifest.cells.map((c) => [c.cellHash, c]))
  const planned = new Map(manifest.runs.map((r) => [r.runId, r]))
  const folders = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(root, d.name, "cell.json")))
  const known = yield* runIds
  yield* putGrid(manifest.grid)
  yield* putReferences(manifest.grid.gridHash, manifest.cells)
  const recorded: Array<{ runId: string; status: string }> = []
  let waiting = 0
  for (const folder of folders.map((d) => d.name).sort()) {
    const path = join(root, folder)
    const spec = yield* readJson<{ run_id: string; cell_hash: string }>(join(path, "cell.json"), "cell spec")
    if (known.has(spec.run_id)) continue
    const verdict = judge?.(folder) ?? { record: true }
    if (!verdict.record) {
      waiting++
      continue
    }
    // A Slurm task's run has its own id; task.json names the planned run it executes.
    const task = existsSync(join(path, "task.json"))
      ? yield* readJson<{ planned_run_id: string }>(join(path, "task.json"), "task record")
      : null
    const plannedRun = planned.get(spec.run_id) ?? (task ? planned.get(task.planned_run_id) : undefined)
    const cell = cellsByHash.get(spec.cell_hash)
    if (!cell)
      return yield* new IngestError({
        message: `${path}: cell ${spec.cell_hash.slice(0, 12)} is not in the manifest; ingest the folder made from the same plan`
      })

    const status = yield* ingestRunFolder(
      root,
      folder,
      cell,
      manifest.measure,
      {
        runId: spec.run_id,
        gridHash: manifest.grid.gridHash,
        repeat: plannedRun?.repeat ?? 0,
        sentinel: plannedRun?.sentinel ?? null
      },
      verdict.killed
    )
    recorded.push({ runId: spec.run_id, status })
  }
  return { recorded, skipped: folders.length - recorded.length - waiting, waiting }
})

/** A run folder's trainer events, up to the first line that is not one (named in protocolError). */
export const folderEvents = (root: string, folder: string) => {
  const events: Array<TrainerEvent> = []
  let protocolError: string | null = null
  const sequence = trainerSequence()
  for (const [i, line] of readLines(join(root, folder, "trainer.jsonl")).entries()) {
    const d = decodeTrainerLine(line)
    const problem = Result.isFailure(d) ? `is not a protocol event (${d.failure.split("\n")[0]})` : sequence(d.success)
    if (problem !== null) {
      protocolError = `${join(folder, "trainer.jsonl")} line ${i + 1}: ${problem}`
      break
    }
    if (Result.isSuccess(d)) events.push(d.success)
  }
  return { events, protocolError }
}

/** The environment a run folder ran in (its `started` event's facts, else the folder's or the
 * batch's env.json), recorded. */
export const environmentOf = Effect.fnUntraced(function* (root: string, folder: string, events: ReadonlyArray<TrainerEvent>) {
  const path = join(root, folder)
  const started = events.find((e) => e.event === "started")
  const envFile = [join(path, "env.json"), join(root, "env.json")].find((f) => existsSync(f)) ?? join(root, "env.json")
  const facts =
    started?.event === "started"
      ? started.env
      : existsSync(envFile)
        ? Schema.decodeUnknownSync(EnvFacts)(JSON.parse(readFileSync(envFile, "utf8")), { onExcessProperty: "ignore" })
        : null
  if (facts === null)
    return yield* new IngestError({ message: `${path}: no environment facts (no started event and no env.json in ${root})` })
  const env = makeEnvironment(facts, gitState(repoRoot))
  yield* putEnvironment(env)
  return env
})

/** A run folder's exit record (exit.json), or what is known without one. */
export const exitOf = (root: string, folder: string, events: ReadonlyArray<TrainerEvent>) =>
  existsSync(join(root, folder, "exit.json"))
    ? readJson<{ exit_code: number | null; signal: string | null; t_end: number; stopped_by?: string | null }>(
        join(root, folder, "exit.json"),
        "exit record"
      )
    : Effect.succeed({
        exit_code: null,
        signal: "unknown (no exit.json: the batch runner stopped during this run)",
        t_end: events.at(-1)?.t ?? Date.now() / 1000,
        stopped_by: null
      })

/** Record one run folder under `root` (its trainer and sampler events, its exit) as a run of `cell`,
 * exactly as a live run would have been recorded; → its status. `killed`: the caller (the Slurm
 * collector) knows the run was ended from outside, with this kind and message. */
export const ingestRunFolder = Effect.fnUntraced(function* (
  root: string,
  folder: string,
  cell: HashedCell,
  measure: Measure,
  run: { readonly runId: string; readonly gridHash: string | null; readonly repeat: number; readonly sentinel: number | null },
  killed?: { readonly kind: string; readonly message: string; readonly detail: string | null }
) {
  const path = join(root, folder)
  const { events, protocolError } = folderEvents(root, folder)
  const env = yield* environmentOf(root, folder, events)
  yield* putCell(cellRow(cell, measure))
  const exit = yield* exitOf(root, folder, events)
  const firstT = events[0]?.t ?? exit.t_end
  yield* startRun({
    runId: run.runId,
    cellHash: cell.cellHash,
    envHash: env.envHash,
    gridHash: run.gridHash,
    seed: cell.seed,
    repeat: run.repeat,
    origin: "ingest",
    startedAt: firstT,
    rerunOf: null,
    sentinel: run.sentinel
  })
  let terminal: Evidence["terminal"] = null
  for (const event of events) {
    terminal = terminalOf(event) ?? terminal
    yield* recordTrainerEvent(run.runId, event)
  }
  for (const line of readLines(join(path, "sampler.jsonl"))) {
    const d = decodeSamplerLine(line)
    if (Result.isSuccess(d)) yield* recordSamplerEvent(run.runId, d.success)
  }
  const decided = decideOutcome({
    terminal,
    protocolError,
    exitCode: exit.exit_code,
    signal: exit.signal,
    stderrTail: tail(tailOfFile(join(path, "stderr.log"))),
    stopCause: exit.stopped_by ? "interrupt" : null,
    endedAt: exit.t_end
  })
  const end = killed
    ? { ...decided, status: "failed" as const, errorKind: killed.kind, errorMessage: killed.message, errorDetail: killed.detail }
    : decided
  yield* endRun(run.runId, end)
  return end.status
})
