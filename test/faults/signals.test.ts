// The runner stopped from outside, for real: SIGTERM, SIGINT and SIGHUP stop its children and mark
// the current run interrupted (what was written stays, the next run resumes); a SIGKILL leaves an
// orphaned `running` row that the next run marks interrupted before resuming the grid, and its
// children die with it (or, where they could not, the next runner stops them first); a closed
// stdout does not stop the grid; a second runner on a ledger in use is refused with a message
// naming the ledger and its holder.
import { execa } from "execa"
import { existsSync, readdirSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { alive, cli, fakePython, injected, noPython, query, root, tempDir, tinyGrid, waitFor } from "./harness.ts"

/** Start `tunegrid run` in the background; resolves once its trainer has reported step 0. */
const startSlowRun = async (dir: string, ledger: string, grid: string, env: Record<string, string>, detached = false) => {
  const sub = execa(
    process.execPath,
    [join(root, "src/cli.ts"), "run", grid, "--no-tui", "--ledger", ledger, ...(env.TUNEGRID_FAKE ? ["--python", fakePython] : [])],
    {
      cwd: root,
      reject: false,
      env: injected(dir, env),
      detached,
      all: true
    }
  )
  let out = ""
  sub.all!.on("data", (chunk: Buffer) => (out += chunk.toString()))
  return { sub, output: () => out }
}

const children = async (pid: number) => {
  const r = await execa("ps", ["-o", "pid=", "--ppid", String(pid)], { reject: false })
  return String(r.stdout)
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0)
}

describe.skipIf(noPython)("SIGTERM, a second runner, and resume", () => {
  const dir = tempDir("sigterm")
  const ledger = join(dir, "l.duckdb")
  const grid = tinyGrid(dir, [1], 10, "sig")
  let refused: Awaited<ReturnType<typeof cli>>
  let reader: Awaited<ReturnType<typeof cli>>
  let first: Awaited<ReturnType<typeof startSlowRun>>["sub"]
  let runnerPid = 0
  let kids: Array<number> = []
  let firstExit: Awaited<ReturnType<typeof startSlowRun>>["sub"] extends Promise<infer R> ? R : never

  beforeAll(async () => {
    const started = await startSlowRun(dir, ledger, grid, { TUNEGRID_INJECT: "1:slow@0" })
    first = started.sub
    runnerPid = first.pid!
    await waitFor("the first runner's step 0", () => /step 0 /.test(started.output()))
    refused = await cli(["run", grid, "--no-tui", "--ledger", ledger])
    reader = await cli(["sql", "SELECT 1", "--ledger", ledger])
    kids = await children(runnerPid)
    process.kill(runnerPid, "SIGTERM")
    firstExit = await first
  }, 240_000)

  it("refuses a second runner, naming the ledger, the holder's PID and host, and answers a reader", () => {
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(
      `ledger ${ledger} is already open in another process (PID ${runnerPid} on host ${hostname()}, writing since`
    )
    expect(refused.stderr).toContain("only one runner writes a ledger at a time")
    // a reader is answered by the runner itself (#14 point 6; test/ledger/live.test.ts)
    expect(reader.exitCode, String(reader.stderr)).toBe(0)
    expect(String(reader.stdout)).toMatch(/\b1\b/)
  })

  it("on SIGTERM stops the trainer and sampler and marks the run interrupted, keeping its steps", async () => {
    expect(firstExit.exitCode).not.toBe(0)
    expect(kids.length).toBe(2) // trainer and sampler
    for (const pid of kids) expect(alive(pid), `child ${pid} still running`).toBe(false)
    const [r] = await query(
      ledger,
      `SELECT run_id, status, error_message, (SELECT count(*)::INT FROM steps s WHERE s.run_id = runs.run_id) AS steps FROM runs`
    )
    expect(r).toMatchObject({ status: "interrupted", error_message: expect.stringMatching(/SIGINT\/SIGTERM/) })
    expect(r!.steps).toBeGreaterThan(0)
    expect(existsSync(`${ledger}.writer`)).toBe(false) // the holder note goes with the lock
  })

  it("the next run resumes the interrupted cell and finishes it", async () => {
    const again = await cli(["run", grid, "--no-tui", "--ledger", ledger], { NO_COLOR: "1" })
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(again.stdout).toMatch(/1 runs, 1 to run/)
    const rows = await query(ledger, `SELECT status, count(*)::INT AS n FROM runs GROUP BY status ORDER BY status`)
    expect(rows).toEqual([
      { status: "interrupted", n: 1 },
      { status: "succeeded", n: 1 }
    ])
    expect(await query(ledger, `SELECT count(*)::INT AS n FROM results`)).toEqual([{ n: 1 }])
  }, 120_000)
})

describe.skipIf(noPython)("SIGINT to the runner's process group (Ctrl-C in a terminal)", () => {
  const dir = tempDir("sigint")
  const ledger = join(dir, "l.duckdb")
  const grid = tinyGrid(dir, [1, 2], 3, "int")

  it("stops a trainer that ignores SIGTERM, records the run interrupted and does not start the next cell", async () => {
    const { sub } = await startSlowRun(dir, ledger, grid, { TUNEGRID_FAKE: "1:sleep" }, true)
    await waitFor("the fake trainer to start", () => readdirSync(dir).some((f) => f.startsWith("sleeper-")))
    const sleeper = Number(
      readdirSync(dir)
        .find((f) => f.startsWith("sleeper-"))!
        .slice("sleeper-".length)
    )
    process.kill(-sub.pid!, "SIGINT")
    const r = await sub
    expect(r.exitCode).not.toBe(0)
    await waitFor("the sleeper to be gone", () => !alive(sleeper), 15_000)
    const rows = await query(ledger, `SELECT status, error_message FROM runs`)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: "interrupted", error_message: expect.stringMatching(/SIGINT/) })
  }, 120_000)
})

describe.skipIf(noPython)("SIGKILL of the runner mid-cell", () => {
  const dir = tempDir("sigkill")
  const ledger = join(dir, "l.duckdb")
  const grid = tinyGrid(dir, [1], 10, "kill")
  let kids: Array<number> = []
  let restart: Awaited<ReturnType<typeof cli>>

  beforeAll(async () => {
    const started = await startSlowRun(dir, ledger, grid, { TUNEGRID_INJECT: "1:slow@0" })
    await waitFor("step 0", () => /step 0 /.test(started.output()))
    await new Promise((r) => setTimeout(r, 1500)) // a step or two more written through
    kids = await children(started.sub.pid!)
    process.kill(started.sub.pid!, "SIGKILL")
    await started.sub
    restart = await cli(["run", grid, "--no-tui", "--ledger", ledger])
  }, 240_000)

  it("its orphaned children exit on their own (their stdout is gone)", async () => {
    expect(kids.length).toBe(2)
    await waitFor("orphans to exit", () => kids.every((pid) => !alive(pid)), 20_000)
  })

  it("on restart marks the orphaned run interrupted, keeps its steps, and resumes the grid", async () => {
    expect(restart.exitCode, String(restart.stderr)).toBe(0)
    expect(restart.stdout).toMatch(/1 orphaned runs marked interrupted/)
    const runs = await query(
      ledger,
      `SELECT status, error_message, (SELECT count(*)::INT FROM steps s WHERE s.run_id = r.run_id) AS steps
      FROM runs r ORDER BY started_at`
    )
    expect(runs).toHaveLength(2)
    expect(runs[0]).toMatchObject({
      status: "interrupted",
      error_message: expect.stringMatching(/found running when the ledger was next opened/)
    })
    expect(runs[0]!.steps).toBeGreaterThan(0)
    expect(runs[1]).toMatchObject({ status: "succeeded", steps: 11 })
  })

  it("no partial row reaches a view: only the finished run has a result, every view reads", async () => {
    const [c] = await query(
      ledger,
      `SELECT (SELECT count(*) FROM results)::INT AS results, (SELECT count(*) FROM table1)::INT AS t1,
      (SELECT count(*) FROM table2)::INT AS t2, (SELECT count(*) FROM failures)::INT AS failures,
      (SELECT count(*) FROM run_summary)::INT AS summary, (SELECT count(*) FROM runs WHERE status = 'running')::INT AS running`
    )
    expect(c).toEqual({ results: 1, t1: 1, t2: 1, failures: 1, summary: 2, running: 0 })
  })
})

describe.skipIf(noPython)("children of a runner killed with SIGKILL", () => {
  it("a silent trainer (stalled, ignoring SIGTERM) and its sampler die with the runner", async () => {
    const dir = tempDir("orphans")
    const grid = tinyGrid(dir, [1], 3, "orphans")
    const { sub } = await startSlowRun(dir, join(dir, "l.duckdb"), grid, { TUNEGRID_INJECT: "1:stall@0" })
    await waitFor("the trainer to stall", () => readdirSync(dir).some((f) => f.startsWith("stalled-")))
    const kids = await children(sub.pid!)
    expect(kids.length).toBe(2)
    process.kill(sub.pid!, "SIGKILL")
    await sub
    try {
      await waitFor("the trainer and sampler to die with their runner", () => kids.every((pid) => !alive(pid)), 5_000)
    } finally {
      for (const pid of kids.filter(alive)) process.kill(pid, "SIGKILL")
    }
  }, 180_000)

  it("the next runner stops a leftover that outlived it before it starts any cell", async () => {
    const dir = tempDir("leftover")
    const ledger = join(dir, "l.duckdb")
    const grid = tinyGrid(dir, [1], 3, "leftover")
    // the fake trainer has no lifeline (as on an OS without a parent-death signal): it outlives the runner
    const { sub } = await startSlowRun(dir, ledger, grid, { TUNEGRID_FAKE: "1:sleep" })
    await waitFor("the fake trainer to start", () => readdirSync(dir).some((f) => f.startsWith("sleeper-")))
    const sleeper = Number(
      readdirSync(dir)
        .find((f) => f.startsWith("sleeper-"))!
        .slice("sleeper-".length)
    )
    process.kill(sub.pid!, "SIGKILL")
    await sub
    try {
      await new Promise((r) => setTimeout(r, 1000))
      expect(alive(sleeper)).toBe(true)
      const again = await cli(
        ["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
        injected(dir, { TUNEGRID_FAKE: "1:steps" })
      )
      expect(again.exitCode, String(again.stderr)).toBe(0)
      expect(alive(sleeper)).toBe(false)
      const lines = String(again.stdout).split("\n")
      const stopped = lines.findIndex((l) => /1 leftover processes of a killed runner stopped/.test(l))
      expect(stopped).toBeGreaterThanOrEqual(0)
      expect(stopped).toBeLessThan(lines.findIndex((l) => /\[1\/1\] run /.test(l)))
    } finally {
      if (alive(sleeper)) process.kill(sleeper, "SIGKILL")
    }
  }, 180_000)
})

describe.skipIf(noPython)("SIGHUP (an ssh disconnect) and a closed stdout (`run … | head`)", () => {
  it("handles SIGHUP as SIGTERM: the run is recorded interrupted and its children stopped", async () => {
    const dir = tempDir("sighup")
    const ledger = join(dir, "l.duckdb")
    const started = await startSlowRun(dir, ledger, tinyGrid(dir, [1], 10, "hup"), { TUNEGRID_INJECT: "1:slow@0" })
    await waitFor("step 0", () => /step 0 /.test(started.output()))
    const kids = await children(started.sub.pid!)
    process.kill(started.sub.pid!, "SIGHUP")
    const r = await started.sub
    expect(r.exitCode).not.toBe(0)
    expect(started.output()).not.toMatch(/\n\s+at /)
    for (const pid of kids) expect(alive(pid), `child ${pid} still running`).toBe(false)
    const [run] = await query(ledger, `SELECT status, error_message FROM runs`)
    expect(run).toMatchObject({ status: "interrupted", error_message: expect.stringMatching(/SIGINT\/SIGTERM/) })
  }, 180_000)

  it("goes on with the grid when stdout is closed, recording every run", async () => {
    const dir = tempDir("epipe")
    const ledger = join(dir, "l.duckdb")
    const sub = execa(
      process.execPath,
      [join(root, "src/cli.ts"), "run", tinyGrid(dir, [1, 2, 3], 3, "pipe"), "--no-tui", "--ledger", ledger, "--python", fakePython],
      { cwd: root, reject: false, env: injected(dir, { TUNEGRID_FAKE: "1:steps,2:steps,3:steps" }) }
    )
    await new Promise<void>((done) => sub.stdout!.once("data", () => done()))
    sub.stdout!.destroy() // what `| head -1` does once it has its line
    const r = await sub
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /)
    expect(r.exitCode).toBe(0)
    expect(await query(ledger, `SELECT status, count(*)::INT AS n FROM runs GROUP BY status`)).toEqual([{ status: "succeeded", n: 3 }])
  }, 180_000)
})
