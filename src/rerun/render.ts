// The rerun report as text a person reads top to bottom: what was rerun, the environment field
// by field, each check with its method, and the verdict with its exit code. Pure.
import { printable } from "../printable.ts"
import type { FieldChange } from "./compare.ts"
import type { RerunReport } from "./report.ts"

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v))
const change = (c: FieldChange) => `${c.field}: ${show(c.before)} → ${show(c.after)}`

export const renderHeader = (r: Pick<RerunReport, "source">) =>
  `rerun of run ${r.source.runId.slice(0, 8)} (by ${r.source.via}) · cell ${r.source.cellHash.slice(0, 12)} ${printable(r.source.label)} · seed ${r.source.seed}` +
  ` · deterministic ${r.source.deterministic ? "on" : "off"}`

export const renderEnvironment = (r: Pick<RerunReport, "environment" | "inputs">) => {
  const lines = ["environment (facts hashed into env_hash, then the cell's inputs):"]
  for (const c of r.environment.changed) lines.push(`  changed    ${change(c)}`)
  for (const c of r.inputs) lines.push(`  changed    ${change(c)}`)
  if (r.environment.same.length > 0)
    lines.push(`  same       ${r.environment.same.join(", ")}${r.inputs.length === 0 ? ", trainer_source, dataset" : ""}`)
  for (const c of r.environment.recordedOnly) lines.push(`  (recorded only, not hashed) ${change(c)}`)
  return lines.join("\n")
}

const inputNames: Record<string, string> = { trainer_source: "the trainer source", dataset: "the dataset", script: "the script" }

export const renderVerdict = (r: RerunReport) => {
  const lines: Array<string> = []
  if (r.verdict === "refused") {
    lines.push(
      `refused: ${r.inputs
        .filter((c) => !c.field.startsWith("cell."))
        .map((c) => `${inputNames[c.field] ?? c.field} changed since the original run`)
        .join("; ")}.`
    )
    lines.push(
      "The cell would not be the one that was measured. Run again with --force to rerun it anyway (recorded under a new cell hash)."
    )
  } else {
    if (r.newRunId) lines.push(`new run ${r.newRunId.slice(0, 8)} (rerun_of ${r.source.runId.slice(0, 8)})`)
    if (r.checks.length > 0) lines.push("checks:")
    for (const c of r.checks) lines.push(`  ${c.name.padEnd(10)} ${c.status}: ${c.detail}`)
  }
  const changed = [...r.environment.changed, ...r.inputs].map((c) => c.field)
  const note = r.verdict === "environment changed" ? `${changed.join(", ")} changed; ${r.note}` : r.note
  lines.push(`verdict: ${r.verdict} (${note}) — exit ${r.exitCode}`)
  return lines.join("\n")
}
