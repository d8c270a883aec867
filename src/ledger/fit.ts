// The fit frontier in the ledger: one fit_probes row per probe (resumed by probe hash and
// environment) and one fit_frontiers row per finished search (resumed by search id), and what an
// ingest or a resumed fit asks of them.
import { Effect } from "effect"
import { str, strOrNull } from "./decode.ts"
import { Ledger, type LedgerError } from "./Ledger.ts"
import type { VramBudget } from "../vram/budget.ts"

export type ProbeOutcome = "completed" | "oom" | "failed" | "interrupted"

/** What one probe answered (src/fit/probe.ts runs it). */
export interface ProbeResult {
  readonly probeId: string
  readonly outcome: ProbeOutcome
  readonly steps: number | null
  readonly torchPeakAllocatedMib: number | null
  readonly torchPeakReservedMib: number | null
  readonly outsideTorchMib: number | null
  readonly pagedMib: number | null
  readonly devicePeakMib: number | null
  readonly errorKind: string | null
  readonly message: string | null
  readonly startedAt: number
  readonly endedAt: number
}

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
      [
        p.probeId,
        p.probeHash,
        p.searchId,
        p.envHash,
        p.gridHash,
        p.field,
        p.value,
        p.outcome,
        p.steps,
        p.capMib,
        p.torchPeakAllocatedMib,
        p.torchPeakReservedMib,
        p.outsideTorchMib,
        p.pagedMib,
        p.devicePeakMib,
        p.errorKind,
        p.message,
        JSON.stringify(p.config),
        iso(p.startedAt),
        iso(p.endedAt)
      ]
    )
  )

const outcomes: ReadonlyArray<ProbeOutcome> = ["completed", "oom", "failed", "interrupted"]
/** A fit_probes.outcome value; one this tunegrid does not know reads as failed (no answer to reuse). */
const probeOutcome = (v: unknown): ProbeOutcome => outcomes.find((o) => o === v) ?? "failed"

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** The latest probe of this hash in this environment that answered (completed or oom), if any. */
export const knownProbe = (probeHash: string, envHash: string) =>
  Effect.map(
    Effect.flatMap(Ledger, (l) =>
      l.rows(
        `SELECT * FROM fit_probes WHERE probe_hash = $1 AND env_hash = $2 AND outcome IN ('completed', 'oom') ORDER BY ended_at DESC LIMIT 1`,
        [probeHash, envHash]
      )
    ),
    (rows) => {
      const r = rows[0]
      if (r === undefined) return null
      return {
        probeId: String(r.probe_id),
        outcome: probeOutcome(r.outcome),
        steps: num(r.steps),
        torchPeakAllocatedMib: num(r.torch_peak_allocated_mib),
        torchPeakReservedMib: num(r.torch_peak_reserved_mib),
        outsideTorchMib: num(r.outside_torch_mib),
        pagedMib: num(r.paged_mib),
        message: r.message === null ? null : String(r.message)
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
    l.exec(`INSERT OR IGNORE INTO fit_frontiers VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::TIMESTAMP)`, [
      f.searchId,
      f.envHash,
      f.gridHash,
      f.label,
      JSON.stringify(f.config),
      f.field,
      JSON.stringify(f.budget),
      f.headroom,
      f.frontier,
      f.reason,
      f.probes,
      f.frontierProbeId,
      f.frontierCellHash,
      new Date().toISOString()
    ])
  )

/** A search already decided in this environment: its frontier and the cell measured there. */
export const decidedFrontier = (searchId: string, envHash: string) =>
  Effect.map(
    Effect.flatMap(Ledger, (l) =>
      l.rows(`SELECT frontier, reason, probes FROM fit_frontiers WHERE search_id = $1 AND env_hash = $2`, [searchId, envHash])
    ),
    (rows) =>
      rows[0] === undefined ? null : { frontier: num(rows[0].frontier), reason: String(rows[0].reason), probes: Number(rows[0].probes) }
  )

/** Probe ids already recorded (an ingest skips them). */
export const probeIds: Effect.Effect<Set<string>, LedgerError, Ledger> = Effect.map(
  Effect.flatMap(Ledger, (l) => l.rows(`SELECT probe_id FROM fit_probes`)),
  (rows) => new Set(rows.map((r) => str(r.probe_id)))
)

/** The environment a search's recorded probes ran in, if any were recorded. */
export const searchEnvHash = (searchId: string): Effect.Effect<string | null, LedgerError, Ledger> =>
  Effect.map(
    Effect.flatMap(Ledger, (l) => l.rows(`SELECT env_hash FROM fit_probes WHERE search_id = $1 LIMIT 1`, [searchId])),
    (rows) => strOrNull(rows[0]?.env_hash)
  )
