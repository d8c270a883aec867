// Plain progress lines (no TTY, --no-tui, CI): one timestamped line per thing that happened.
// The Ink TUI (later) will consume the same calls.
import type { HashedCell } from "./cells.ts"
import { short } from "./hash.ts"
import type { RunEnd } from "./ledger/records.ts"
import type { TrainerEvent } from "./protocol.ts"

export interface RunFigures {
  readonly tok_s: number | null
  readonly t10k_s: number | null
  readonly vram_peak_mib: number | null
  readonly torch_peak_reserved_mib: number | null
  readonly j_per_token: number | null
  readonly energy_method: string | null
  readonly window_steps: number | null
  readonly window_seconds: number | null
  readonly tok_s_ci_rel: number | null
  readonly steady: boolean
  readonly steady_reason: string | null
}

export interface Progress {
  readonly plan: (info: { grid: string; cells: number; runs: number; toRun: number; ledger: string; envHash: string; device: string }) => void
  readonly skip: (position: string, cell: HashedCell, repeat: number) => void
  readonly start: (position: string, cell: HashedCell, runId: string) => void
  readonly event: (position: string, cell: HashedCell, event: TrainerEvent) => void
  readonly end: (position: string, cell: HashedCell, end: RunEnd, figures: RunFigures | null) => void
  readonly summary: (counts: Record<string, number>) => void
}

const clock = () => new Date().toTimeString().slice(0, 8)
const fmt = (n: number | null | undefined, digits = 1) => (n === null || n === undefined ? "—" : n.toFixed(digits))

export const describeCell = (cell: HashedCell) => {
  const values = Object.entries(cell.axisValues).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
  return [cell.label, ...values].filter(Boolean).join(" ") || "(single cell)"
}

export const plainProgress = (write: (line: string) => void): Progress => {
  const say = (text: string) => write(`${clock()} ${text}`)
  return {
    plan: (i) =>
      say(`grid ${i.grid}: ${i.cells} cells, ${i.runs} runs, ${i.toRun} to run · ledger ${i.ledger} · env ${short(i.envHash)} (${i.device})`),
    skip: (pos, cell, repeat) =>
      say(`[${pos}] skip ${short(cell.cellHash)} ${describeCell(cell)}${repeat > 0 ? ` repeat ${repeat}` : ""}: already succeeded in this environment`),
    start: (pos, cell, runId) => say(`[${pos}] run ${short(cell.cellHash)} ${describeCell(cell)} (run ${runId.slice(0, 8)})`),
    event: (pos, _cell, e) => {
      if (e.event === "started") {
        say(`[${pos}]   started: ${e.model.name} ${(e.model.params / 1e6).toFixed(1)}M params, ${(e.model.trainable_params / 1e6).toFixed(2)}M trainable, on ${e.env.device}${e.env.gpu_name ? ` (${e.env.gpu_name})` : ""}; data ${e.data.samples} samples, mean ${e.data.tokens_mean.toFixed(0)} tokens`)
        for (const w of e.warnings) say(`[${pos}]   note: ${w}`)
      } else if (e.event === "step" && (e.step % 10 === 0)) {
        say(`[${pos}]   step ${e.step} ${e.phase} loss ${e.loss.toFixed(3)} ${(e.tokens / Math.max(e.t_end - e.t_start, 1e-9)).toFixed(0)} tok/s`)
      }
    },
    end: (pos, cell, end, f) => {
      if (end.status === "succeeded" && f) {
        const vram = f.vram_peak_mib ?? f.torch_peak_reserved_mib
        const ci = f.tok_s_ci_rel === null ? "" : ` ±${(100 * f.tok_s_ci_rel).toFixed(1)}%`
        say(`[${pos}]   succeeded (${end.finishReason}): ${fmt(f.tok_s)}${ci} tok/s, T10k ${fmt(f.t10k_s, 2)} s, VRAM peak ${vram === null ? "— (no GPU)" : `${fmt(vram, 0)} MiB`}, J/token ${f.j_per_token === null ? "— (no energy counter)" : `${f.j_per_token.toExponential(3)} (${f.energy_method})`}; window ${f.window_steps} steps / ${fmt(f.window_seconds)} s`)
        if (!f.steady) say(`[${pos}]   not steady: ${f.steady_reason}`)
      } else if (end.status === "failed") {
        say(`[${pos}]   failed: ${end.errorKind}: ${end.errorMessage}`)
        if (end.errorKind === "crash" || end.errorKind === "protocol") {
          for (const line of (end.stderrTail ?? "").split("\n").slice(-8).filter(Boolean)) write(`           | ${line}`)
        }
      } else {
        say(`[${pos}]   ${end.status}${end.errorMessage ? `: ${end.errorMessage}` : ""}`)
      }
      void cell
    },
    summary: (counts) => say(`done: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}`)
  }
}
