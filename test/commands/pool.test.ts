// `tunegrid run --slots 2` end to end with real trainers (issue #18's "done when"): each cell runs
// once, two trainers run at the same time, and a kill -9 of the runner mid-grid (a test-only hook
// kills it inside the first run's end transaction, the other slot's run still going) resumes
// cleanly: both orphans are marked interrupted, their cells run again, nothing is left running.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { alive, cli, killRunnerAfter, noPython, query, tempDir, tinyGrid } from "../faults/harness.ts"

describe.skipIf(noPython)("run --slots 2", () => {
  const dir = tempDir("pool")
  const ledger = join(dir, "l.duckdb")
  const grid = tinyGrid(dir, [1, 2, 3], 3, "pool")
  const args = ["run", grid, "--no-tui", "--ledger", ledger, "--slots", "2", "--sampler", "none"]
  let killed: Awaited<ReturnType<typeof cli>>
  let again: Awaited<ReturnType<typeof cli>>

  beforeAll(async () => {
    killed = await cli(args, killRunnerAfter(`UPDATE runs SET status = \\$2.*"succeeded"`))
    again = await cli(args)
  }, 240_000)

  it("the kill landed with both slots' runs going, and the next runner took them up", async () => {
    expect(killed.signal).toBe("SIGKILL")
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(again.stdout).toMatch(/2 orphaned runs marked interrupted/)
    expect(again.stdout).toMatch(/3 runs, 3 to run/)
  })

  it("every plain line of a pooled run names its slot after its position", () => {
    const lines = String(again.stdout)
      .split("\n")
      .filter((l) => /\]\s+(started|succeeded)/.test(l))
    expect(lines.length).toBeGreaterThanOrEqual(6) // started and succeeded for each of the three runs
    for (const l of lines) expect(l).toMatch(/\[\d\/3 cpu[12]\]/)
  })

  it("every cell succeeded exactly once, and the orphans were marked interrupted", async () => {
    const rows = await query(
      ledger,
      `SELECT c.seed, count(*) FILTER (WHERE r.status = 'succeeded')::INT AS succeeded,
      count(*) FILTER (WHERE r.status = 'interrupted')::INT AS interrupted, count(*) FILTER (WHERE r.status = 'running')::INT AS running
      FROM cells c LEFT JOIN runs r USING (cell_hash) GROUP BY c.seed ORDER BY c.seed`
    )
    expect(rows.map((r) => r.succeeded)).toEqual([1, 1, 1])
    expect(rows.reduce((a, r) => a + (r.interrupted as number), 0)).toBe(2)
    expect(rows.reduce((a, r) => a + (r.running as number), 0)).toBe(0)
  })

  it("two trainers ran at the same time, each run in a recorded slot", async () => {
    const runs = await query(
      ledger,
      `SELECT r.run_id, epoch(r.started_at) AS s, epoch(r.ended_at) AS e, s.slot
      FROM runs r JOIN run_slots s USING (run_id) WHERE r.status = 'succeeded' ORDER BY r.started_at`
    )
    expect(runs).toHaveLength(3)
    expect(new Set(runs.map((r) => r.slot))).toEqual(new Set(["cpu 1", "cpu 2"]))
    // the resumed runner's first two runs, one per slot: the second started before the first ended
    const [a, b] = runs as Array<{ s: number; e: number }>
    expect(b!.s).toBeLessThan(a!.e)
    expect(a!.s).toBeLessThan(b!.e)
  })

  it("leaves no trainer or sampler process behind", () => {
    const runsDir = join(dir, ".tunegrid", "runs")
    const pids = readdirSync(runsDir).flatMap((id) => {
      try {
        return readFileSync(join(runsDir, id, "processes.jsonl"), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { pid: number }).pid)
      } catch {
        return []
      }
    })
    expect(pids.length).toBeGreaterThanOrEqual(10) // a trainer and a sampler for each of the five runs
    expect(pids.filter((pid) => alive(pid))).toEqual([])
  })
})
