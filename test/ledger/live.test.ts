// Reading the ledger while another process writes it (issue #14 point 6). The writer answers
// read-only queries on its socket (src/ledger/readServer.ts), so `sql`, `runs`, `report` and
// `export` in a second process see every committed run at once, a slow read never holds the
// writer up, and SIGKILL of either side loses nothing. The writer here is this test process
// (the same Ledger layer a runner opens), or a real `tunegrid run`.
import { Effect } from "effect"
import { execa } from "execa"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { makeEnvironment } from "../../src/env.ts"
import { Ledger } from "../../src/ledger/Ledger.ts"
import { endRun, putEnvironment, startRun } from "../../src/ledger/records.ts"
import { socketFile } from "../../src/ledger/wire.ts"
import type { EnvFacts } from "../../src/protocol.ts"
import { alive, cli, fakePython, injected, noPython, query, root, tempDir, tinyGrid, waitFor } from "../faults/harness.ts"

const facts: EnvFacts = {
  python: "3.11.7",
  torch: "2.15.0",
  transformers: "5.24.0",
  peft: "0.21.2",
  accelerate: "1.15.0",
  bitsandbytes: null,
  cuda: null,
  cudnn: null,
  device: "cpu",
  gpu_name: null,
  gpu_memory_mib: null,
  gpu_uuid: null,
  driver: null,
  power_limit_w: null,
  os: "Linux",
  cpu: "x86",
  hostname: "box"
}
const env = makeEnvironment(facts, { commit: null, dirty: null })

/** Seconds of one CPU-bound DuckDB query on this machine (~3 s on the 2-core dev box). */
const SLOW = "SELECT count(*) AS n FROM range(300000000) t(i) WHERE i % 7 = 3"

/** One run, started and ended as a runner records it (two transactions); → ms the writes took. */
const recordRun = (runId: string, at: number) =>
  Effect.gen(function* () {
    const t = performance.now()
    yield* startRun({
      runId,
      cellHash: "c".repeat(64),
      envHash: env.envHash,
      gridHash: null,
      seed: 1,
      repeat: 0,
      origin: "live",
      startedAt: at,
      rerunOf: null
    })
    yield* endRun(runId, {
      status: "failed",
      endedAt: at + 1,
      finishReason: null,
      errorKind: "crash",
      errorMessage: "test",
      errorDetail: null,
      exitCode: 1,
      exitSignal: null,
      stderrTail: null
    })
    return performance.now() - t
  })

/** A value of each kind DuckDB returns (big and small integers, NaN, time, intervals, nested, bytes). */
const TYPED = `SELECT 7::BIGINT AS b, 12345678901234567::BIGINT AS big, 1.5::DOUBLE AS d, 'nan'::DOUBLE AS nan, 1.25::DECIMAL(10, 2) AS dec,
  TIMESTAMP '2026-01-02 10:00:00.5' AS ts, DATE '2026-01-02' AS day, INTERVAL 90 MINUTE AS iv, [1, 2] AS list, {'a': 1, 'b': 'x'} AS struct,
  'ab'::BLOB AS bytes, NULL AS nothing, true AS yes, run_id FROM runs ORDER BY run_id`

const sqlCli = (ledger: string, sql: string, format = "csv") => cli(["sql", sql, "--format", format, "--ledger", ledger])
const runIdsIn = (csv: string) => csv.trim().split("\n").slice(1).sort()

/** The ledger held for writing by this process for the length of `body` (as a runner holds it). */
const holding = <A, E>(ledger: string, body: Effect.Effect<A, E, Ledger>) =>
  Effect.runPromise(Effect.scoped(body.pipe(Effect.provide(Ledger.layer(ledger)))))

describe("reading the ledger while a runner writes it", () => {
  it("a reader sees each run as soon as it is recorded, and a slow read never holds up the writer", async () => {
    const dir = tempDir("live")
    const ledger = join(dir, "l.duckdb")
    let typedThrough: Awaited<ReturnType<typeof sqlCli>> | undefined
    await holding(
      ledger,
      Effect.gen(function* () {
        yield* putEnvironment(env)
        expect(existsSync(socketFile(ledger))).toBe(true)
        // each run is there for the very next reader
        for (const id of ["run-1", "run-2"]) {
          yield* recordRun(id, 1_700_000_000)
          const seen = yield* Effect.promise(() => sqlCli(ledger, "SELECT run_id FROM runs"))
          expect(seen.exitCode, String(seen.stderr)).toBe(0)
          expect(runIdsIn(String(seen.stdout))).toContain(id)
        }
        // a slow read in flight: the writer goes on recording runs meanwhile, each in well under a second
        const slow = sqlCli(ledger, SLOW)
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 500)))
        const took: Array<number> = []
        for (const id of ["run-3", "run-4", "run-5"]) took.push(yield* recordRun(id, 1_700_000_100))
        const readerStillRunning = alive(slow.pid!)
        const slowDone = yield* Effect.promise(() => slow)
        expect(slowDone.exitCode, String(slowDone.stderr)).toBe(0)
        expect(readerStillRunning).toBe(true)
        for (const ms of took) expect(ms).toBeLessThan(1000)
        // every reading command works through the writer: runs, report, export (and sql above)
        const runs = yield* Effect.promise(() => cli(["runs", "--format", "json", "--ledger", ledger]))
        expect(runs.exitCode, String(runs.stderr)).toBe(0)
        expect((JSON.parse(String(runs.stdout)) as Array<{ run: string }>).map((r) => r.run).sort()).toEqual([
          "run-1",
          "run-2",
          "run-3",
          "run-4",
          "run-5"
        ])
        const report = yield* Effect.promise(() => cli(["report", "--format", "json", "--ledger", ledger]))
        expect(report.exitCode, String(report.stderr)).toBe(0)
        expect((JSON.parse(String(report.stdout)) as { failures: Array<unknown> }).failures).toHaveLength(5)
        const out = join(dir, "runs.csv")
        const exported = yield* Effect.promise(() =>
          cli(["export", "--query", "SELECT run_id FROM runs ORDER BY run_id", "--out", out, "--ledger", ledger])
        )
        expect(exported.exitCode, String(exported.stderr)).toBe(0)
        expect(readFileSync(out, "utf8").trim().split("\n")).toEqual(["run_id", "run-1", "run-2", "run-3", "run-4", "run-5"])
        // the same values as a read of the file gives (compared below, once the writer has closed)
        typedThrough = yield* Effect.promise(() => sqlCli(ledger, TYPED, "json"))
        expect(typedThrough.exitCode, String(typedThrough.stderr)).toBe(0)
        // a result of several chunks (DuckDB's are 2,048 rows) comes whole and in order
        const many = yield* Effect.promise(() => sqlCli(ledger, "SELECT range AS i FROM range(5000) ORDER BY i"))
        expect(String(many.stdout).trim().split("\n")).toEqual(["i", ...Array.from({ length: 5000 }, (_, i) => String(i))])
        // and only reads: a write, or (for sql) a file read, is refused with the reason
        const write = yield* Effect.promise(() => sqlCli(ledger, "DELETE FROM runs"))
        expect(write.exitCode).toBe(1)
        expect(write.stderr).toMatch(/read-only/)
        const file = yield* Effect.promise(() => sqlCli(ledger, `SELECT * FROM read_csv('${out}')`))
        expect(file.exitCode).toBe(1)
        expect(file.stderr).toMatch(/cannot read or write files.*read_csv/)
      })
    )
    expect(existsSync(socketFile(ledger))).toBe(false) // gone with the writer
    expect((await query(ledger, "SELECT count(*)::INT AS n FROM runs"))[0]).toEqual({ n: 5 })
    const typedDirect = await sqlCli(ledger, TYPED, "json")
    expect(typedDirect.exitCode, String(typedDirect.stderr)).toBe(0)
    expect(String(typedThrough!.stdout)).toBe(String(typedDirect.stdout))
  }, 120_000)

  it("a reader killed mid-query loses nothing: the writer records on, and the next reader is answered", async () => {
    const dir = tempDir("live-kill-reader")
    const ledger = join(dir, "l.duckdb")
    await holding(
      ledger,
      Effect.gen(function* () {
        yield* putEnvironment(env)
        yield* recordRun("before", 1_700_000_000)
        const reader = execa(process.execPath, [join(root, "src/cli.ts"), "sql", SLOW, "--ledger", ledger], { cwd: root, reject: false })
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 800)))
        reader.kill("SIGKILL")
        const killed = yield* Effect.promise(() => reader)
        expect(killed.signal).toBe("SIGKILL")
        const took = yield* recordRun("after", 1_700_000_100)
        expect(took).toBeLessThan(1000)
        const next = yield* Effect.promise(() => sqlCli(ledger, "SELECT run_id FROM runs"))
        expect(next.exitCode, String(next.stderr)).toBe(0)
        expect(runIdsIn(String(next.stdout))).toEqual(["after", "before"])
      })
    )
    expect(await query(ledger, "SELECT run_id, status FROM runs ORDER BY run_id")).toEqual([
      { run_id: "after", status: "failed" },
      { run_id: "before", status: "failed" }
    ])
  }, 120_000)

  it.skipIf(noPython)(
    "after SIGKILL of a real runner, readers open the ledger directly and the next runner clears its socket",
    async () => {
      const dir = tempDir("live-kill-runner")
      const ledger = join(dir, "l.duckdb")
      const grid = tinyGrid(dir, [1], 3, "live")
      const runner = execa(
        process.execPath,
        [join(root, "src/cli.ts"), "run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
        {
          cwd: root,
          reject: false,
          env: injected(dir, { TUNEGRID_FAKE: "1:sleep" })
        }
      )
      let sleeper = 0
      try {
        await waitFor("the fake trainer to start", () => readdirSync(dir).some((f) => f.startsWith("sleeper-")))
        sleeper = Number(
          readdirSync(dir)
            .find((f) => f.startsWith("sleeper-"))!
            .slice("sleeper-".length)
        )
        // while it runs: its running run, through its socket
        const during = await sqlCli(ledger, "SELECT status FROM runs")
        expect(during.exitCode, String(during.stderr)).toBe(0)
        expect(String(during.stdout).trim().split("\n")).toEqual(["status", "running"])
        runner.kill("SIGKILL")
        await runner
        expect(existsSync(socketFile(ledger))).toBe(true) // left behind: nobody answers on it
        const after = await sqlCli(ledger, "SELECT status FROM runs")
        expect(after.exitCode, String(after.stderr)).toBe(0)
        expect(String(after.stdout).trim().split("\n")).toEqual(["status", "running"])
        const again = await cli(
          ["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
          injected(dir, { TUNEGRID_FAKE: "1:steps" })
        )
        expect(again.exitCode, String(again.stderr)).toBe(0)
        expect(existsSync(socketFile(ledger))).toBe(false)
        expect(await query(ledger, "SELECT status FROM runs ORDER BY status")).toEqual([{ status: "interrupted" }, { status: "succeeded" }])
      } finally {
        if (sleeper > 0 && alive(sleeper)) process.kill(sleeper, "SIGKILL")
      }
    },
    240_000
  )
})
