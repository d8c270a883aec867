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
import { Ledger } from "./ledger/Ledger.ts"
import { endRun, putCell, putEnvironment, putGrid, recordSamplerEvent, recordTrainerEvent, startRun, type GridRow } from "./ledger/records.ts"
import { decodeSamplerLine, decodeTrainerLine, EnvFacts, type TrainerEvent } from "./protocol.ts"
import { cellRow, prepareGrid } from "./recorder.ts"
import { putReferences } from "./references/record.ts"
import { decideOutcome, tail, type Evidence } from "./trainer/outcome.ts"

export class IngestError extends Schema.TaggedError<IngestError>()("IngestError", { message: Schema.String }) {}

interface Manifest {
  readonly grid: GridRow
  readonly measure: Measure
  readonly cells: ReadonlyArray<HashedCell>
  readonly runs: ReadonlyArray<{ readonly file: string; readonly runId: string; readonly cellHash: string; readonly repeat: number; readonly sentinel?: number | null }>
}

/** Write one spec per planned run plus manifest.json into `out`. */
export const writePlan = (loaded: LoadedGrid, out: string, tokenizerDir: string | null) => {
  const prepared = prepareGrid(loaded)
  const byIndex = new Map(prepared.cells.map((c) => [c.index, c]))
  mkdirSync(out, { recursive: true })
  const runs = loaded.expansion.runs.map((r, i) => {
    const cell = byIndex.get(r.cell.index)!
    const runId = randomUUID()
    const file = `${String(i).padStart(3, "0")}-${cell.cellHash.slice(0, 12)}-r${r.repeat}.json`
    const spec = toSpec(cell, loaded.expansion.measure, runId, { baseDir: dirname(loaded.file), tokenizerDir: tokenizerDir ?? offlineTokenizerDir() })
    writeFileSync(join(out, file), JSON.stringify(spec, null, 2))
    return { file, runId, cellHash: cell.cellHash, repeat: r.repeat, sentinel: r.sentinel ?? null }
  })
  const manifest: Manifest = { grid: prepared.grid, measure: loaded.expansion.measure, cells: prepared.cells, runs }
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2))
  return manifest
}

export const readLines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l.trim().length > 0) : [])

export const readJson = <A>(path: string, what: string): Effect.Effect<A, IngestError> =>
  Effect.try({
    try: () => JSON.parse(readFileSync(path, "utf8")) as A,
    catch: (e) => new IngestError({ message: `${what} ${path} could not be read: ${e instanceof Error ? e.message : String(e)}` })
  })

/** Record every run folder under `dir` that the ledger does not have yet. */
export const ingestDir = Effect.fnUntraced(function*(dir: string) {
  const root = resolve(dir)
  const manifest = yield* readJson<Manifest>(join(root, "manifest.json"), "manifest (copied by tunegrid_trainer.batch from the plan folder)")
  const l = yield* Ledger
  const cellsByHash = new Map(manifest.cells.map((c) => [c.cellHash, c]))
  const planned = new Map(manifest.runs.map((r) => [r.runId, r]))
  const folders = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(root, d.name, "cell.json")))
  const known = new Set((yield* l.rows(`SELECT run_id FROM runs`)).map((r) => String(r.run_id)))
  yield* putGrid(manifest.grid)
  yield* putReferences(manifest.grid.gridHash, manifest.cells)
  const recorded: Array<{ runId: string; status: string }> = []
  for (const folder of folders.map((d) => d.name).sort()) {
    const path = join(root, folder)
    const spec = yield* readJson<{ run_id: string; cell_hash: string }>(join(path, "cell.json"), "cell spec")
    if (known.has(spec.run_id)) continue
    const cell = cellsByHash.get(spec.cell_hash)
    if (!cell) return yield* new IngestError({ message: `${path}: cell ${spec.cell_hash.slice(0, 12)} is not in the manifest; ingest the folder made from the same plan` })
    const status = yield* ingestRunFolder(root, folder, cell, manifest.measure, {
      runId: spec.run_id, gridHash: manifest.grid.gridHash, repeat: planned.get(spec.run_id)?.repeat ?? 0, sentinel: planned.get(spec.run_id)?.sentinel ?? null
    })
    recorded.push({ runId: spec.run_id, status })
  }
  return { recorded, skipped: folders.length - recorded.length }
})

/** The environment a run folder ran in (its `started` event's facts, else the batch's env.json), recorded. */
export const environmentOf = Effect.fnUntraced(function*(root: string, folder: string, events: ReadonlyArray<TrainerEvent>) {
  const started = events.find((e) => e.event === "started")
  const envFile = join(root, "env.json")
  const facts = started?.event === "started"
    ? started.env
    : existsSync(envFile) ? Schema.decodeUnknownSync(EnvFacts)(JSON.parse(readFileSync(envFile, "utf8")), { onExcessProperty: "ignore" }) : null
  if (facts === null) return yield* new IngestError({ message: `${join(root, folder)}: no environment facts (no started event and no env.json in ${root})` })
  const env = makeEnvironment(facts, gitState(repoRoot))
  yield* putEnvironment(env)
  return env
})

/** A run folder's trainer events, up to the first line that is not one (named in protocolError). */
export const folderEvents = (root: string, folder: string) => {
  const events: Array<TrainerEvent> = []
  let protocolError: string | null = null
  for (const [i, line] of readLines(join(root, folder, "trainer.jsonl")).entries()) {
    const d = decodeTrainerLine(line)
    if (Result.isFailure(d)) {
      protocolError = `${join(folder, "trainer.jsonl")} line ${i + 1} is not a protocol event (${d.failure.split("\n")[0]})`
      break
    }
    events.push(d.success)
  }
  return { events, protocolError }
}

/** Record one run folder under `root` (its trainer and sampler events, its exit) as a run of `cell`,
 * exactly as a live run would have been recorded; → its status. */
export const ingestRunFolder = Effect.fnUntraced(function*(root: string, folder: string, cell: HashedCell, measure: Measure,
  run: { readonly runId: string; readonly gridHash: string | null; readonly repeat: number; readonly sentinel: number | null }) {
  const path = join(root, folder)
  const { events, protocolError } = folderEvents(root, folder)
  const env = yield* environmentOf(root, folder, events)
  yield* putCell(cellRow(cell, measure))
  const exit = existsSync(join(path, "exit.json"))
    ? yield* readJson<{ exit_code: number | null; signal: string | null; t_end: number }>(join(path, "exit.json"), "exit record")
    : { exit_code: null, signal: "unknown (no exit.json: the batch runner stopped during this run)", t_end: events.at(-1)?.t ?? Date.now() / 1000 }
  const firstT = events[0]?.t ?? exit.t_end
  yield* startRun({
    runId: run.runId, cellHash: cell.cellHash, envHash: env.envHash, gridHash: run.gridHash, seed: cell.seed,
    repeat: run.repeat, origin: "ingest", startedAt: firstT, rerunOf: null, sentinel: run.sentinel
  })
  let terminal: Evidence["terminal"] = null
  for (const event of events) {
    if (event.event === "finished") terminal = { event: "finished", reason: event.reason }
    if (event.event === "failed") {
      terminal = { event: "failed", kind: event.kind, message: event.message, detail: event.detail, step: event.step, memoryMib: event.memory_mib }
    }
    yield* recordTrainerEvent(run.runId, event)
  }
  for (const line of readLines(join(path, "sampler.jsonl"))) {
    const d = decodeSamplerLine(line)
    if (Result.isSuccess(d)) yield* recordSamplerEvent(run.runId, d.success)
  }
  const stderr = existsSync(join(path, "stderr.log")) ? readFileSync(join(path, "stderr.log"), "utf8") : ""
  const end = decideOutcome({
    terminal, protocolError, exitCode: exit.exit_code, signal: exit.signal, stderrTail: tail(stderr), stopCause: null, endedAt: exit.t_end
  })
  yield* endRun(run.runId, end)
  return end.status
})
