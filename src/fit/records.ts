// The fit frontier in the ledger: one fit_probes row per probe (resumed by probe hash and
// environment) and one fit_frontiers row per finished search (resumed by search id).
import { Effect } from "effect"
import { Ledger } from "../ledger/Ledger.ts"
import type { VramBudget } from "../vram/budget.ts"
import type { ProbeResult } from "./probe.ts"

export type ProbeOutcome = "completed" | "oom" | "failed" | "interrupted"

/** A probe as recorded: what it answered (src/fit/probe.ts) and which search and value it served. */
export interface ProbeRow extends ProbeResult {
  readonly probeHash: string
  readonly searchId: string
  readonly envHash: string
  readonly gridHash: string | null
  readonly field: string
  readonly value: number
  readonly capMib: number
  readonly config: unknown
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString()

export const putProbe = (p: ProbeRow) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT INTO fit_probes VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19::TIMESTAMP, $20::TIMESTAMP)`,
      [p.probeId, p.probeHash, p.searchId, p.envHash, p.gridHash, p.field, p.value, p.outcome, p.steps, p.capMib, p.torchPeakAllocatedMib,
        p.torchPeakReservedMib, p.outsideTorchMib, p.pagedMib, p.devicePeakMib, p.errorKind, p.message, JSON.stringify(p.config),
        iso(p.startedAt), iso(p.endedAt)]
    ))

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** The latest probe of this hash in this environment that answered (completed or oom), if any. */
export const knownProbe = (probeHash: string, envHash: string) =>
  Effect.map(
    Effect.flatMap(Ledger, (l) =>
      l.rows(`SELECT * FROM fit_probes WHERE probe_hash = $1 AND env_hash = $2 AND outcome IN ('completed', 'oom') ORDER BY ended_at DESC LIMIT 1`,
        [probeHash, envHash])),
    (rows) => {
      const r = rows[0]
      if (r === undefined) return null
      return {
        probeId: String(r.probe_id), outcome: r.outcome as ProbeOutcome, steps: num(r.steps),
        torchPeakAllocatedMib: num(r.torch_peak_allocated_mib), torchPeakReservedMib: num(r.torch_peak_reserved_mib),
        outsideTorchMib: num(r.outside_torch_mib), pagedMib: num(r.paged_mib), message: r.message === null ? null : String(r.message)
      }
    }
  )

export interface FrontierRow {
  readonly searchId: string
  readonly envHash: string
  readonly gridHash: string | null
  readonly label: string | null
  readonly config: unknown
  readonly field: string
  readonly budget: VramBudget
  readonly headroom: number
  readonly frontier: number | null
  readonly reason: string
  readonly probes: number
  readonly frontierProbeId: string | null
  readonly frontierCellHash: string | null
}

export const putFrontier = (f: FrontierRow) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT OR IGNORE INTO fit_frontiers VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::TIMESTAMP)`,
      [f.searchId, f.envHash, f.gridHash, f.label, JSON.stringify(f.config), f.field, JSON.stringify(f.budget), f.headroom, f.frontier,
        f.reason, f.probes, f.frontierProbeId, f.frontierCellHash, new Date().toISOString()]
    ))

/** A search already decided in this environment: its frontier and the cell measured there. */
export const decidedFrontier = (searchId: string, envHash: string) =>
  Effect.map(
    Effect.flatMap(Ledger, (l) =>
      l.rows(`SELECT frontier, reason, probes FROM fit_frontiers WHERE search_id = $1 AND env_hash = $2`, [searchId, envHash])),
    (rows) => (rows[0] === undefined ? null : { frontier: num(rows[0].frontier), reason: String(rows[0].reason), probes: Number(rows[0].probes) })
  )
