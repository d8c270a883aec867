// `run` and `rerun` as a user meets them, through the real CLI on a tiny CPU grid (the real
// trainer, and the test-only fake for a cell that must fail): the exit code says whether any run
// failed (3; --allow-failures keeps 0), runs already done are announced before any run starts,
// and rerun takes run's flags (--no-tui, --json, --stall-timeout, --set).
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cli, fakePython, injected, noPython, query, tempDir, tinyGrid } from "../faults/harness.ts"

const dir = tempDir("run-exit")
const ledger = join(dir, "l.duckdb")
const grid = tinyGrid(dir, [1, 2], 3, "exits")
const env = injected(dir, { TUNEGRID_FAKE: "1:exit" }) // seed 1's trainer exits 7 at once; seed 2 trains for real
let first: Awaited<ReturnType<typeof cli>>

const flagsOf = (help: string) => new Set([...help.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!))

describe.skipIf(noPython)("run's exit code and rerun's flags", () => {
  beforeAll(async () => {
    first = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], env)
  }, 300_000)

  it("exits 3 when a run failed, after running the others, and says so in one closing line", () => {
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(3)
    expect(first.stdout).toMatch(/\[1\/2\] {3}failed: crash/)
    expect(first.stdout).toMatch(/\[2\/2\] {3}succeeded/)
    expect(first.stdout).toMatch(/failed: seed=1 \(crash\)/) // the report names the failed cell by its axis values
    expect(String(first.stdout).trim().split("\n").at(-1)).toBe(
      "finished with 1 failed run (1 succeeded, 1 failed) — exit 3 (--allow-failures keeps 0)"
    )
  })

  it("with --allow-failures exits 0, and announces the run already done before the first run starts", async () => {
    const again = await cli(["run", grid, "--json", "--allow-failures", "--ledger", ledger, "--python", fakePython], env)
    expect(again.exitCode, String(again.stderr)).toBe(0)
    const events = String(again.stdout)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; position?: string })
    const resumed = events.findIndex((e) => e.type === "resumed" && e.position === "2/2")
    const start = events.findIndex((e) => e.type === "start" && e.position === "1/2")
    expect(resumed).toBeGreaterThan(0)
    expect(resumed).toBeLessThan(start)
  }, 300_000)

  it("rerun takes the same run-time flags as run", async () => {
    const [run, rerun] = await Promise.all([cli(["run", "--help"]), cli(["rerun", "--help"])])
    const runFlags = flagsOf(String(run.stdout))
    const rerunFlags = flagsOf(String(rerun.stdout))
    for (const flag of ["--set", "--tui", "--json", "--sampler", "--stall-timeout", "--ledger", "--python"]) {
      expect(runFlags.has(flag), `run ${flag}`).toBe(true)
      expect(rerunFlags.has(flag), `rerun ${flag}`).toBe(true)
    }
  }, 60_000)

  it("rerun --json --set streams the events and the verdict as JSON lines; the changed cell is a new cell (exit 4)", async () => {
    const [source] = await query(ledger, `SELECT run_id, cell_hash FROM runs WHERE status = 'succeeded' LIMIT 1`)
    const r = await cli(
      [
        "rerun",
        String(source!.run_id).slice(0, 8),
        "--json",
        "--no-tui",
        "--stall-timeout",
        "5m",
        "--set",
        "learningRate=0.002",
        "--tolerance",
        "10",
        "--ledger",
        ledger,
        "--python",
        fakePython
      ],
      env
    )
    const lines = String(r.stdout)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines[0]!.type).toBe("plan")
    const verdict = lines.at(-1)!
    expect(verdict).toMatchObject({ type: "verdict", verdict: "environment changed", exitCode: 4 })
    expect(verdict.inputs).toEqual([{ field: "cell.learningRate", before: 0.0002, after: 0.002 }])
    expect(r.exitCode, String(r.stderr)).toBe(4)
    const [rerun] = await query(ledger, `SELECT cell_hash FROM runs WHERE rerun_of = '${String(source!.run_id)}'`)
    expect(rerun!.cell_hash).not.toBe(source!.cell_hash)
  }, 300_000)

  it("rerun refuses a prefix shorter than 4 characters before starting anything", async () => {
    const r = await cli(["rerun", "a", "--ledger", ledger, "--python", fakePython], env)
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`"a" is too short: give at least 4 characters`)
  }, 60_000)
})
