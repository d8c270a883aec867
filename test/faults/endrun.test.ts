// kill -9 of the runner at the end of a run, at the exact point between the run's status update and
// its results row (a test-only hook kills it there, test/fixtures/inject/runner-hook.ts): the run
// must never be left `succeeded` without results (resume would count it done, the tables would
// show it blank). The end is one transaction, so the kill leaves the run `running`; the next run
// marks it interrupted and runs the cell again.
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cli, fakePython, injected, killRunnerAfter, query, tempDir, tinyGrid } from "./harness.ts"

describe("kill -9 between a run's status and its results", () => {
  const dir = tempDir("endrun")
  const ledger = join(dir, "l.duckdb")
  const grid = tinyGrid(dir, [1, 2])
  const env = injected(dir, { TUNEGRID_FAKE: "1:steps,2:steps" })
  let killed: Awaited<ReturnType<typeof cli>>
  let again: Awaited<ReturnType<typeof cli>>

  beforeAll(async () => {
    // right after the first `UPDATE runs SET status = … 'succeeded'` has returned
    killed = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], {
      ...env,
      ...killRunnerAfter(`UPDATE runs SET status = \\$2.*"succeeded"`)
    })
  }, 120_000)

  it("the kill landed inside the end of the first run", () => {
    expect(killed.signal).toBe("SIGKILL")
  })

  it("leaves no run succeeded without its results row", async () => {
    const rows = await query(
      ledger,
      `SELECT r.status, (SELECT count(*)::INT FROM results x WHERE x.run_id = r.run_id) AS results FROM runs r`
    )
    expect(rows).toEqual([{ status: "running", results: 0 }])
  })

  it("the next run marks it interrupted, runs that cell again and finishes the grid with every result", async () => {
    again = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], env)
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(again.stdout).toMatch(/2 runs, 2 to run/)
    const rows = await query(
      ledger,
      `SELECT c.seed, r.status, (SELECT count(*)::INT FROM results x WHERE x.run_id = r.run_id) AS results
      FROM runs r JOIN cells c USING (cell_hash) ORDER BY r.started_at`
    )
    expect(rows).toEqual([
      { seed: 1, status: "interrupted", results: 0 },
      { seed: 1, status: "succeeded", results: 1 },
      { seed: 2, status: "succeeded", results: 1 }
    ])
  }, 120_000)
})
