// Text for `tunegrid slurm status` and `collect`: the task table, a count by state, and where
// the states came from. Pure.
import type { SlurmJob } from "./job.ts"
import type { TaskRow } from "./tasks.ts"

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")
  return [line(header), ...rows.map(line)].join("\n")
}

export const countStates = (rows: ReadonlyArray<TaskRow>) => {
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1)
  return [...counts.entries()].map(([state, n]) => `${n} ${state}`).join(", ")
}

export const renderStatus = (dir: string, job: SlurmJob, rows: ReadonlyArray<TaskRow>, sources: string) => {
  const arrays = job.submissions.map((s) => `${s.jobId} (${s.reason}, ${s.taskIds.length} tasks, offset ${s.offset})`).join(", ")
  const body = rows.map((r) => [
    String(r.slot),
    r.task ?? "—",
    r.state,
    r.node ?? "—",
    r.gpus ?? "—",
    r.runId?.slice(0, 8) ?? "—",
    r.progress ?? "—",
    String(r.attempts),
    r.cell
  ])
  return [
    `grid ${job.gridName} · ${job.tasks} planned runs · ${dir}`,
    `array jobs: ${arrays || "none"}`,
    `states from ${sources}`,
    "",
    table(["slot", "task", "state", "node", "gpus", "run", "progress", "tries", "cell"], body),
    "",
    `${countStates(rows)}`
  ].join("\n")
}
