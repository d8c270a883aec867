// A trainer that misbehaves on its protocol, through the real CLI and a real ledger: a repeated step
// number and a number no ledger column can hold each fail that run as `protocol` (the grid goes
// on), an event the ledger itself refuses does the same, and 120 MB of stderr is kept in its file
// with a bounded tail, never buffered (execa would SIGTERM the trainer at 100 MB).
import { Deferred, Effect } from "effect"
import { statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { TrainerEvent } from "../../src/protocol.ts"
import { runCellProcesses } from "../../src/trainer/CellProcess.ts"
import { cli, fakePython, injected, query, tempDir, tinyGrid } from "./harness.ts"

describe("bad trainer events in a grid run", () => {
  const dir = tempDir("events")
  const ledger = join(dir, "l.duckdb")
  let out: Awaited<ReturnType<typeof cli>>
  const run = async (seed: number) =>
    (await query(ledger, `SELECT r.* FROM runs r JOIN cells c USING (cell_hash) WHERE c.seed = ${seed}`))[0]!

  beforeAll(async () => {
    const grid = tinyGrid(dir, [1, 2, 3])
    out = await cli(
      ["run", grid, "--no-tui", "--sampler", "none", "--ledger", ledger, "--python", fakePython],
      injected(dir, { TUNEGRID_FAKE: "1:dupstep,2:bignum,3:steps" })
    )
  }, 300_000)

  it("goes on to the next cell after each and ends the grid normally", () => {
    expect(out.exitCode, String(out.stderr)).toBe(3) // the documented code for "some runs failed, the others ran"
    expect(out.stdout).toMatch(/done: 1 succeeded, 2 failed/)
  })

  it("fails a run whose trainer repeats a step number as protocol, keeping the steps before it", async () => {
    const r = await run(1)
    expect(r).toMatchObject({ status: "failed", error_kind: "protocol" })
    expect(r.error_message).toMatch(/trainer stdout line 3: step 1 after step 1 \(step numbers must increase\)/)
    expect(await query(ledger, `SELECT step FROM steps WHERE run_id = '${r.run_id}' ORDER BY step`)).toEqual([{ step: 0 }, { step: 1 }])
  })

  it("fails a run whose trainer sends a token count of 1e300 as protocol, naming the field, and writes no row of it", async () => {
    const r = await run(2)
    expect(r).toMatchObject({ status: "failed", error_kind: "protocol" })
    expect(r.error_message).toMatch(/trainer stdout line 1 is not a protocol event \(Expected an integer at \["tokens"\]\)/)
    expect(await query(ledger, `SELECT count(*)::INT AS n FROM steps WHERE run_id = '${r.run_id}'`)).toEqual([{ n: 0 }])
  })
})

describe("a trainer that writes 120 MB to stderr", () => {
  it("keeps it all in its file and only a bounded tail with the run, and the run succeeds", async () => {
    const dir = tempDir("chatty")
    const ledger = join(dir, "l.duckdb")
    const r = await cli(
      ["run", tinyGrid(dir, [1]), "--no-tui", "--sampler", "none", "--ledger", ledger, "--python", fakePython],
      injected(dir, { TUNEGRID_FAKE: "1:chatty" })
    )
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const [run] = await query(ledger, `SELECT *, length(stderr_tail) AS tail_chars FROM runs`)
    expect(run).toMatchObject({ status: "succeeded", finish_reason: "window_complete", exit_signal: null })
    expect(run!.stderr_tail).toMatch(/chatty: 120 MB written$/)
    expect(Number(run!.tail_chars)).toBeLessThanOrEqual(64 * 1024)
    expect(statSync(join(dir, ".tunegrid", "runs", String(run!.run_id), "stderr.log")).size).toBeGreaterThan(120 * 1024 * 1024)
  }, 120_000)
})

describe("an event the ledger refuses", () => {
  it("fails the run as protocol naming the line and why, and kills the trainer rather than waiting for it", async () => {
    const dir = tempDir("refused")
    // the cell spec is all the fake trainer reads: its seed picks the behaviour (steps 0, 1, 1, then 30 s asleep)
    const spec = join(dir, "cell.json")
    writeFileSync(spec, JSON.stringify({ seed: 1 }))
    const saved = { ...process.env }
    Object.assign(process.env, injected(dir, { TUNEGRID_FAKE: "1:dupstep" })) // read by the fake (children inherit it)
    try {
      const started = Date.now()
      const seen: Array<TrainerEvent> = []
      const evidence = await Effect.runPromise(
        Effect.gen(function* () {
          return yield* runCellProcesses({
            python: fakePython,
            specPath: spec,
            stderrPath: join(dir, "stderr.log"),
            samplerStderrPath: join(dir, "sampler.log"),
            samplerMode: "none",
            sampleIntervalMs: 100,
            idleMs: 0,
            stallTimeoutMs: 60_000,
            stop: yield* Deferred.make<"skip" | "interrupt">(),
            onSampler: () => Effect.void,
            // a ledger that refuses step 1 (as DuckDB refuses a duplicate key), before the repeat is even sent
            onTrainer: (e) =>
              e.event === "step" && e.step === 1 ? Effect.fail("duplicate key" as const) : Effect.sync(() => void seen.push(e)),
            refused: (e) => (e === "duplicate key" ? "Constraint Error: Duplicate key" : null)
          })
        })
      )
      expect(evidence.protocolError).toMatch(/^trainer stdout line 2 \(step\) could not be recorded: Constraint Error: Duplicate key/)
      expect(seen.map((e) => e.event === "step" && e.step)).toEqual([0])
      expect(Date.now() - started).toBeLessThan(25_000) // not the fake's 30 s
    } finally {
      process.env = saved
    }
  }, 60_000)
})
