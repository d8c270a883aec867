// `tunegrid ingest <runs-dir>` for a folder written by `python -m tunegrid_trainer.fit`: its probes
// become fit_probes rows (hashed here exactly as a live fit hashes them), its decisions
// fit_frontiers rows, its measured runs ordinary runs of the frontier cells. Idempotent.
import { Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { environmentOf, exitOf, folderEvents, IngestError, ingestRunFolder, readJson, readLines } from "../ingest.ts"
import { probeIds, putFrontier, putProbe, searchEnvHash, type ProbeOutcome } from "../ledger/fit.ts"
import { putGrid } from "../ledger/records.ts"
import { runIds } from "../ledger/runs.ts"
import { decodeSamplerLine, type Memory } from "../protocol.ts"
import { putReferences } from "../references/record.ts"
import { decideOutcome, tail } from "../trainer/outcome.ts"
import { frontierCell, type Search } from "./fit.ts"
import { fitPlanFile, type FitPlan, type PlannedSearch } from "./plan.ts"
import { probeCell, probeMeasure } from "./probe.ts"

interface LogEntry {
  readonly search_id: string
  readonly kind: "probe" | "done" | "measured"
  readonly value?: number
  readonly run_id?: string
  readonly frontier?: number | null
  readonly reason?: string
  readonly probes?: number
}

const searchOf = (s: PlannedSearch): Search => ({
  cell: s.cell,
  config: s.cell.config,
  field: s.field,
  budget: s.budget,
  bounds: s.bounds,
  searchId: s.search_id,
  name: s.name
})

/** One probe folder as a fit_probes row (status decided as for any run). */
const recordProbe = (root: string, plan: FitPlan, s: PlannedSearch, value: number, runId: string) =>
  Effect.gen(function* () {
    const { events, protocolError } = folderEvents(root, runId)
    const env = yield* environmentOf(root, runId, events)
    const exit = yield* exitOf(root, runId, events)
    const failed = events.find((e) => e.event === "failed")
    const finished = events.find((e) => e.event === "finished")
    const stderr = existsSync(join(root, runId, "stderr.log")) ? readFileSync(join(root, runId, "stderr.log"), "utf8") : ""
    const end = decideOutcome({
      terminal:
        failed?.event === "failed"
          ? { event: "failed", kind: failed.kind, message: failed.message, detail: failed.detail }
          : finished?.event === "finished"
            ? { event: "finished", reason: finished.reason }
            : null,
      protocolError,
      exitCode: exit.exit_code,
      signal: exit.signal,
      stderrTail: tail(stderr),
      stopCause: null,
      endedAt: exit.t_end
    })
    const outcome: ProbeOutcome = end.status === "succeeded" ? "completed" : end.errorKind === "oom" ? "oom" : "failed"
    const memory = events.filter((e): e is Memory => e.event === "memory").at(-1) ?? null
    const device = readLines(join(root, runId, "sampler.jsonl"))
      .map(decodeSamplerLine)
      .flatMap((d) =>
        d._tag === "Success" && d.success.event === "sample" && d.success.mem_used_mib !== null ? [d.success.mem_used_mib] : []
      )
    const config = { ...s.cell.config, [s.field]: value }
    yield* putProbe({
      probeId: runId,
      probeHash: probeCell(s.cell, config, probeMeasure(plan.probe_steps)).cellHash,
      searchId: s.search_id,
      envHash: env.envHash,
      gridHash: plan.grid.gridHash,
      field: s.field,
      value,
      outcome,
      steps: events.filter((e) => e.event === "step").length,
      capMib: s.budget.capMib,
      torchPeakAllocatedMib: memory?.torch_peak_allocated_mib ?? null,
      torchPeakReservedMib: memory?.torch_peak_reserved_mib ?? null,
      outsideTorchMib: memory?.outside_torch_mib ?? null,
      pagedMib: memory?.paged_mib ?? null,
      devicePeakMib: device.length > 0 ? Math.max(...device) : null,
      errorKind: end.errorKind,
      message: end.errorMessage,
      config,
      startedAt: events[0]?.t ?? exit.t_end,
      endedAt: exit.t_end
    })
    return env.envHash
  })

export const ingestFitDir = Effect.fnUntraced(function* (dir: string) {
  const root = resolve(dir)
  const plan = yield* readJson<FitPlan>(fitPlanFile(root), "fit plan (copied by tunegrid_trainer.fit from the plan folder)")
  const log = readLines(join(root, "searches.jsonl")).map((line) => JSON.parse(line) as LogEntry)
  const knownProbes = yield* probeIds
  const knownRuns = yield* runIds
  yield* putGrid(plan.grid)
  yield* putReferences(
    plan.grid.gridHash,
    plan.searches.map((s) => s.cell)
  )
  const counts = { probes: 0, decisions: 0, runs: 0 }
  for (const s of plan.searches) {
    const entries = log.filter((e) => e.search_id === s.search_id)
    const probeIds = new Map<number, string>()
    let envHash: string | null = null
    for (const e of entries.filter((x) => x.kind === "probe")) {
      if (e.run_id === undefined || e.value === undefined)
        return yield* new IngestError({ message: `${root}/searches.jsonl: a probe entry without run_id and value` })
      probeIds.set(e.value, e.run_id)
      if (knownProbes.has(e.run_id)) continue
      envHash = yield* recordProbe(root, plan, s, e.value, e.run_id)
      counts.probes += 1
    }
    const done = entries.find((e) => e.kind === "done")
    if (done !== undefined) {
      const frontier = done.frontier ?? null
      const atProbe = frontier === null ? null : (probeIds.get(frontier) ?? null)
      // probes ingested before: the environment they ran in
      envHash ??= yield* searchEnvHash(s.search_id)
      if (envHash) {
        yield* putFrontier({
          searchId: s.search_id,
          envHash,
          gridHash: plan.grid.gridHash,
          label: s.name,
          config: s.cell.config,
          field: s.field,
          budget: s.budget,
          headroom: plan.headroom,
          frontier,
          reason: done.reason ?? "",
          probes: done.probes ?? probeIds.size,
          frontierProbeId: atProbe,
          frontierCellHash: frontier === null ? null : frontierCell(searchOf(s), frontier, plan.measure).cellHash
        })
        counts.decisions += 1
      }
    }
    for (const e of entries.filter((x) => x.kind === "measured")) {
      if (e.run_id === undefined || e.value === undefined || knownRuns.has(e.run_id)) continue
      yield* ingestRunFolder(root, e.run_id, frontierCell(searchOf(s), e.value, plan.measure), plan.measure, {
        runId: e.run_id,
        gridHash: plan.grid.gridHash,
        repeat: 0,
        sentinel: null
      })
      counts.runs += 1
    }
  }
  return counts
})
