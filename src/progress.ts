// The runner's live interface to whoever watches it: `Progress` (what happened, called by the
// scheduler), `RunControl` (skip / quit requests going back in), and three watchers: plain
// timestamped lines (no TTY, --no-tui, CI), JSON lines (--json), and `RunEvent`s for the Ink TUI.
import { Deferred, Effect } from "effect"
import type { HashedCell } from "./cells.ts"
import { short } from "./hash.ts"
import { printable } from "./printable.ts"
import type { RunEnd } from "./ledger/records.ts"
import type { RunFigures } from "./ledger/runs.ts"
import type { SamplerEvent, TrainerEvent } from "./protocol.ts"
import type { Slot } from "./slots.ts"
import { CI_SANITY_BOUND, unreliable } from "./report/noise.ts"

// A run's figures as the ledger's results row gives them (src/ledger/runs.ts).
export type { RunFigures } from "./ledger/runs.ts"

/** One planned run as the watchers see it (position is "i/n" in run order). */
export interface PlannedRow {
  readonly position: string
  readonly cellHash: string
  readonly repeat: number
  readonly label: string | null
  readonly axisValues: Readonly<Record<string, unknown>>
}

export interface PlanInfo {
  readonly grid: string
  readonly cells: number
  readonly runs: number
  readonly toRun: number
  readonly ledger: string
  readonly envHash: string
  readonly device: string
  /** Every run in order (including those already done), for tables that show the whole grid. */
  readonly rows?: ReadonlyArray<PlannedRow>
  /** The resolved stop rule (warm-up, window, limits, and a CI target when the grid has one). */
  readonly measure?: unknown
  /** Card capacity in MiB when there is a GPU (the probe's view), for the VRAM bar. */
  readonly gpuMemoryMib?: number | null
  /** A local pool's slots by name ("gpu 0", "cpu 1"), for the TUI's lanes; absent outside a pool. */
  readonly slots?: ReadonlyArray<string>
}

export interface Progress {
  readonly plan: (info: PlanInfo) => void
  /** A run already done in this environment; `figures` are its latest results when known. */
  readonly skip: (position: string, cell: HashedCell, repeat: number, figures?: RunFigures | null) => void
  /** A run added to the plan while the grid runs (a pool slot's own sentinel run), before its start. */
  readonly added?: (row: PlannedRow) => void
  /** A run started; `slot` is the pool slot running it (absent outside a pool): the watchers tag
   * this run's later events with it. */
  readonly start: (position: string, cell: HashedCell, runId: string, slot?: Slot) => void
  readonly event: (position: string, cell: HashedCell, event: TrainerEvent) => void
  readonly sample?: (position: string, cell: HashedCell, event: SamplerEvent) => void
  readonly end: (position: string, cell: HashedCell, end: RunEnd, figures: RunFigures | null) => void
  readonly summary: (counts: Record<string, number>) => void
}

const clock = () => new Date().toTimeString().slice(0, 8)
const fmt = (n: number | null | undefined, digits = 1) => (n === null || n === undefined ? "—" : n.toFixed(digits))

export const describeCell = (cell: HashedCell) => {
  const values = Object.entries(cell.axisValues).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
  return printable([cell.label, ...values].filter(Boolean).join(" ")) || "(single cell)"
}

/** How a plain line names a pool slot after the run's position: "gpu 1" → "gpu1" ("[2/4 gpu1]"). */
const slotTag = (slot: Slot) => slot.name.replace(/\s+/g, "")

export const plainProgress = (write: (line: string) => void): Progress => {
  const say = (text: string) => write(`${clock()} ${text}`)
  // the slot each running run of a pool is on, by position, so that every line of the run names it
  const tags = new Map<string, string>()
  const at = (pos: string) => `[${pos}${tags.has(pos) ? ` ${tags.get(pos)}` : ""}]`
  return {
    plan: (i) =>
      say(
        `grid ${i.grid}: ${i.cells} cells, ${i.runs} runs, ${i.toRun} to run · ledger ${i.ledger} · env ${short(i.envHash)} (${i.device})`
      ),
    skip: (pos, cell, repeat) =>
      say(
        `${at(pos)} skip ${short(cell.cellHash)} ${describeCell(cell)}${repeat > 0 ? ` repeat ${repeat}` : ""}: already succeeded in this environment`
      ),
    start: (pos, cell, runId, slot) => {
      if (slot) tags.set(pos, slotTag(slot))
      say(`${at(pos)} run ${short(cell.cellHash)} ${describeCell(cell)} (run ${runId.slice(0, 8)})`)
    },
    event: (pos, _cell, e) => {
      if (e.event === "started") {
        say(
          `${at(pos)}   started: ${e.model.name} ${(e.model.params / 1e6).toFixed(1)}M params, ${(e.model.trainable_params / 1e6).toFixed(2)}M trainable, on ${e.env.device}${e.env.gpu_name ? ` (${e.env.gpu_name})` : ""}; data ${e.data.samples} ${e.data.format} samples, mean ${e.data.tokens_mean.toFixed(0)} tokens`
        )
        for (const w of e.warnings) say(`${at(pos)}   note: ${w}`)
      } else if (e.event === "step" && e.step % 10 === 0) {
        say(
          `${at(pos)}   step ${e.step} ${e.phase} loss ${e.loss.toFixed(3)} ${(e.tokens / Math.max(e.t_end - e.t_start, 1e-9)).toFixed(0)} tok/s`
        )
      }
    },
    end: (pos, cell, end, f) => {
      if (end.status === "succeeded" && f) {
        const vram = f.vram_peak_mib ?? f.torch_peak_reserved_mib
        const ci = f.tok_s_ci_rel === null ? "" : ` ±${(100 * f.tok_s_ci_rel).toFixed(1)}%`
        say(
          `${at(pos)}   succeeded (${end.finishReason}): ${fmt(f.tok_s)}${ci} tok/s, T10k ${fmt(f.t10k_s, 2)} s, VRAM peak ${vram === null ? "— (no GPU)" : `${fmt(vram, 0)} MiB`}, J/token ${f.j_per_token === null ? "— (no energy counter)" : `${f.j_per_token.toExponential(3)} (${f.energy_method})`}; window ${f.window_steps} steps / ${fmt(f.window_seconds)} s`
        )
        if (unreliable(f.tok_s_ci_rel)) {
          say(
            `${at(pos)}   warning: tok/s ${f.tok_s_ci_rel === null ? "has no CI" : `±${(100 * f.tok_s_ci_rel).toFixed(1)}%`} is noise, not a measurement to compare (CI wider than ±${100 * CI_SANITY_BOUND}%)`
          )
        }
        if (!f.steady && !String(f.steady_reason).startsWith("unreliable")) say(`${at(pos)}   not steady: ${f.steady_reason}`)
      } else if (end.status === "failed") {
        say(`${at(pos)}   failed: ${end.errorKind}: ${end.errorMessage}`)
        if (end.errorKind === "crash" || end.errorKind === "protocol") {
          for (const line of (end.stderrTail ?? "").split("\n").slice(-8).filter(Boolean)) write(`           | ${line}`)
        }
      } else {
        say(`${at(pos)}   ${end.status}${end.errorMessage ? `: ${end.errorMessage}` : ""}`)
      }
      void cell
      tags.delete(pos)
    },
    summary: (counts) =>
      say(
        `done: ${Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(", ")}`
      )
  }
}

/** Requests from the keyboard to the scheduler: skip the current run(s), or stop after recording
 * them. The scheduler attaches each run's stop Deferred while that run is going (one per slot of a pool). */
export class RunControl {
  private readonly current = new Set<Deferred.Deferred<"skip" | "interrupt">>()
  private quitRequested = false

  get quitting(): boolean {
    return this.quitRequested
  }

  attach(stop: Deferred.Deferred<"skip" | "interrupt">): void {
    this.current.add(stop)
    if (this.quitRequested) Deferred.doneUnsafe(stop, Effect.succeed("interrupt"))
  }

  /** The run of this stop ended (without one: every run did). */
  detach(stop?: Deferred.Deferred<"skip" | "interrupt">): void {
    if (stop === undefined) this.current.clear()
    else this.current.delete(stop)
  }

  /** Ask the running trainer(s) to stop after the current step; the runs are recorded as skipped. */
  skip(): boolean {
    let any = false
    for (const stop of this.current) any = Deferred.doneUnsafe(stop, Effect.succeed("skip")) || any
    return any
  }

  /** Stop the current run(s) (recorded as interrupted, so they run again next time) and start no more. */
  quit(): void {
    this.quitRequested = true
    for (const stop of this.current) Deferred.doneUnsafe(stop, Effect.succeed("interrupt"))
  }
}

/** Where a pooled run's event came from: its slot's name and its GPU's index (null for a CPU
 * slot); absent on the events of a run outside a pool. */
export interface SlotTag {
  readonly slot?: string
  readonly gpu?: number | null
}

/** What happened, as data: what the TUI's reducer consumes and what --json prints, one per line.
 * `at` is the wall clock in epoch milliseconds. */
export type RunEvent =
  | { readonly type: "plan"; readonly at: number; readonly info: PlanInfo }
  | { readonly type: "added"; readonly at: number; readonly row: PlannedRow }
  | {
      readonly type: "resumed"
      readonly at: number
      readonly position: string
      readonly cellHash: string
      readonly repeat: number
      readonly figures?: RunFigures | null
    }
  | ({
      readonly type: "start"
      readonly at: number
      readonly position: string
      readonly cellHash: string
      readonly runId: string
    } & SlotTag)
  | ({ readonly type: "trainer"; readonly at: number; readonly position: string; readonly event: TrainerEvent } & SlotTag)
  | ({ readonly type: "sampler"; readonly at: number; readonly position: string; readonly event: SamplerEvent } & SlotTag)
  | ({
      readonly type: "end"
      readonly at: number
      readonly position: string
      readonly end: RunEnd
      readonly figures: RunFigures | null
    } & SlotTag)
  | { readonly type: "summary"; readonly at: number; readonly counts: Record<string, number> }

/** A Progress that turns every call into a RunEvent; each event of a pooled run says its slot and GPU. */
export const eventProgress = (emit: (event: RunEvent) => void, now: () => number = Date.now): Progress => {
  const where = new Map<string, SlotTag>() // by position, while the run goes
  const tag = (position: string): SlotTag => where.get(position) ?? {}
  return {
    plan: (info) => emit({ type: "plan", at: now(), info }),
    added: (row) => emit({ type: "added", at: now(), row }),
    skip: (position, cell, repeat, figures = null) =>
      emit({ type: "resumed", at: now(), position, cellHash: cell.cellHash, repeat, figures }),
    start: (position, cell, runId, slot) => {
      if (slot) where.set(position, { slot: slot.name, gpu: slot.gpu?.index ?? null })
      emit({ type: "start", at: now(), position, cellHash: cell.cellHash, runId, ...tag(position) })
    },
    event: (position, _cell, event) => emit({ type: "trainer", at: now(), position, event, ...tag(position) }),
    sample: (position, _cell, event) => emit({ type: "sampler", at: now(), position, event, ...tag(position) }),
    end: (position, _cell, end, figures) => {
      emit({ type: "end", at: now(), position, end, figures, ...tag(position) })
      where.delete(position)
    },
    summary: (counts) => emit({ type: "summary", at: now(), counts })
  }
}

/** --json: every event as one JSON line, for other tools. */
export const jsonProgress = (write: (line: string) => void): Progress => eventProgress((e) => write(JSON.stringify(e)))
