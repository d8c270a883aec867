// Watching and collecting a Slurm job: what Slurm and the run folders say now (`observe`, for
// status), and recording every complete folder into the ledger (`collect`, the only ledger
// writer of the Slurm path), safe to run as often as one likes while tasks still run.
import { Clock, Effect, Result } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { ingestDir, type Manifest } from "../ingest.ts"
import { attemptsOf, jobPaths, readJob } from "./job.ts"
import { Slurm, type TaskReport } from "./Slurm.ts"
import { judgeFolder, readRunFolders, taskRows } from "./tasks.ts"

/** The plan's specs in file-name order (slot i = the batch runner's --index i), each with its cell. */
const planEntries = (dir: string) => {
  const { plan } = jobPaths(dir)
  const manifest = JSON.parse(readFileSync(join(plan, "manifest.json"), "utf8")) as Manifest
  const describe = (c: Manifest["cells"][number]) =>
    c.label ?? (Object.keys(c.axisValues).length > 0 ? JSON.stringify(c.axisValues) : `cell ${c.cellHash.slice(0, 12)}`)
  const cells = new Map(manifest.cells.map((c) => [c.cellHash, describe(c)]))
  const byFile = new Map(manifest.runs.map((r) => [r.file, cells.get(r.cellHash) ?? r.cellHash.slice(0, 12)]))
  return readdirSync(plan)
    .filter((f) => f.endsWith(".json") && f !== "manifest.json")
    .sort()
    .map((spec) => ({ spec, cell: byFile.get(spec) ?? "?" }))
}

/** Slurm's view (null when it cannot be asked, with the reason) and the run folders, in that
 * order: a task that had left the queue before the folders were read had finished writing. */
export const observe = Effect.fnUntraced(function* (dir: string) {
  const job = yield* readJob(dir)
  const slurm = yield* Slurm
  const asked = yield* Effect.result(
    Effect.flatMap(slurm.config, (config) =>
      Effect.map(slurm.tasks([...new Set(job.submissions.map((s) => s.jobId))], config), (report) => ({ config, report }))
    )
  )
  const now = yield* Clock.currentTimeMillis
  const folders = readRunFolders(jobPaths(dir).runs, now)
  const report: TaskReport | null = Result.isSuccess(asked) ? asked.success.report : null
  const unreachable = Result.isFailure(asked) ? asked.failure.message : null
  return { job, report, unreachable, folders, rows: taskRows(job, planEntries(dir), folders, report) }
})

/** Record every complete run folder not yet in the ledger; a folder of a task Slurm ended
 * early is recorded failed with Slurm's state. */
export const collect = Effect.fnUntraced(function* (dir: string, settleS: number) {
  const seen = yield* observe(dir)
  const byName = new Map(seen.folders.map((f) => [f.name, f]))
  const ingested = yield* ingestDir(jobPaths(dir).runs, (name) => {
    const folder = byName.get(name) // a folder that appeared after the look is left for next time
    return folder ? judgeFolder(folder, seen.report, seen.folders, settleS, dir) : { record: false }
  })
  // Tasks that ended without leaving any run folder (a bad interpreter path, a node that never ran them).
  const folderKeys = new Set(seen.folders.map((f) => f.key))
  const report = seen.report
  const lost =
    report === null
      ? []
      : seen.rows.flatMap((row) =>
          attemptsOf(seen.job, row.slot).flatMap(({ key }) =>
            !report.live.has(key) && !folderKeys.has(key)
              ? [{ key, slot: row.slot, state: report.ended.get(key)?.state ?? "ENDED", log: join(jobPaths(dir).logs, `${key}.out`) }]
              : []
          )
        )
  return { ...ingested, lost: lost.map((l) => ({ ...l, log: existsSync(l.log) ? l.log : null })), seen }
})
