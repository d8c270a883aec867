// Opening a real DuckDB ledger file and writing it atomically: what is refused as a ledger (data
// files DuckDB would open in memory), a succeeded run left without results by an older runner
// (computed on open), transactions that leave nothing behind when a statement fails, cells written
// a few hundred rows to a statement, the ledger's own timestamps in UTC whatever TZ says, INTERVALs
// printed as DuckDB writes them, and which write failures are the event's fault.
import { DuckDBInstance } from "@duckdb/node-api"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { makeEnvironment } from "../../src/env.ts"
import { Ledger, LedgerError } from "../../src/ledger/Ledger.ts"
import { cellInserts, endRun, recordTrainerEvent, refusedEvent, startRun, type CellRow } from "../../src/ledger/records.ts"
import type { EnvFacts } from "../../src/protocol.ts"

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
const dir = () => mkdtempSync(join(tmpdir(), "tunegrid-open-"))
const withLedger = <A, E>(path: string, body: Effect.Effect<A, E, Ledger>) =>
  Effect.runPromise(Effect.scoped(body.pipe(Effect.provide(Layer.fresh(Ledger.layer(path))))))
const openError = (path: string, readOnly = false) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flip(
        Effect.gen(function* () {
          yield* Ledger
        }).pipe(Effect.provide(Layer.fresh(readOnly ? Ledger.layerReadOnly(path) : Ledger.layer(path))))
      )
    )
  )

const t0 = 1_700_000_000
const step = (runId: string, i: number) =>
  recordTrainerEvent(runId, {
    event: "step",
    t: t0 + i + 1,
    step: i,
    t_start: t0 + i,
    t_end: t0 + i + 1,
    tokens: 1000,
    padded_tokens: 1024,
    samples: 4,
    loss: 3,
    lr: 1e-4,
    grad_norm: null,
    mem_allocated_mib: null,
    mem_reserved_mib: null,
    mem_peak_allocated_mib: null,
    mem_peak_reserved_mib: null,
    phase: i < 1 ? "warmup" : "window"
  })
const start = (runId: string) =>
  startRun({
    runId,
    cellHash: "c".repeat(64),
    envHash: env.envHash,
    gridHash: null,
    seed: 1,
    repeat: 0,
    origin: "live",
    startedAt: t0,
    rerunOf: null
  })

describe("what may be opened as a ledger", () => {
  const d = dir()
  const files: Array<[string, string | Buffer, RegExp]> = [
    ["results.json", JSON.stringify({ table1: [{ tok_s: 1 }] }), /a JSON or JSON-lines file/],
    ["runs.jsonl", '{"a":1}\n{"a":2}\n', /a JSON or JSON-lines file/],
    ["table.csv", "run,tok_s\nabc,1.5\n", /a CSV\/TSV file/],
    ["table.tsv", "run\ttok_s\nabc\t1.5\n", /a CSV\/TSV file/],
    ["table.parquet", Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(64), Buffer.from("PAR1")]), /a Parquet file/],
    ["notes.txt", "hello\n", /not a DuckDB database file/]
  ]
  for (const [name, content, kind] of files) {
    it(`refuses ${name} (which DuckDB would open as an in-memory database), naming it, and leaves it untouched`, async () => {
      const path = join(d, name)
      writeFileSync(path, content)
      for (const readOnly of [false, true]) {
        const e = await openError(path, readOnly)
        expect(e).toBeInstanceOf(LedgerError)
        expect(e.message).toContain(path)
        expect(e.message).toMatch(kind)
        expect(e.message).toMatch(/not a tunegrid ledger .*nothing would be saved/)
      }
      expect(readFileSync(path)).toEqual(Buffer.isBuffer(content) ? content : Buffer.from(content))
    })
  }

  it("creates a ledger at a new path, whatever its name, and opens it again", async () => {
    const path = join(d, "new-results.json")
    await withLedger(path, start("r1"))
    const again = await withLedger(
      path,
      Effect.flatMap(Ledger, (l) => l.rows(`SELECT count(*)::INT AS n FROM runs`))
    )
    expect(again).toEqual([{ n: 1 }])
  })
})

describe("a run's end is one transaction", () => {
  it("computes, on open, the results of a run an older runner left succeeded without them", async () => {
    const path = join(dir(), "l.duckdb")
    // the state an older tunegrid left when killed between endRun's statements
    await withLedger(
      path,
      Effect.gen(function* () {
        yield* start("gap")
        for (let i = 0; i < 5; i++) yield* step("gap", i)
        yield* (yield* Ledger).exec(
          `UPDATE runs SET status = 'succeeded', ended_at = now(), finish_reason = 'window_complete' WHERE run_id = 'gap'`
        )
      })
    )
    const db = await DuckDBInstance.create(path, { access_mode: "READ_ONLY" })
    const conn = await db.connect()
    expect((await conn.runAndReadAll(`SELECT count(*)::INT AS n FROM results`)).getRowObjectsJS()).toEqual([{ n: 0 }])
    conn.closeSync()
    db.closeSync()
    const out = await withLedger(
      path,
      Effect.gen(function* () {
        const l = yield* Ledger
        return { repaired: l.repaired, rows: yield* l.rows(`SELECT run_id, window_steps, tok_s FROM results`) }
      })
    )
    expect(out.repaired).toEqual(["gap"])
    expect(out.rows).toEqual([{ run_id: "gap", window_steps: 4, tok_s: 1000 }])
    // and only once: the next open finds nothing to repair
    expect(
      await withLedger(
        path,
        Effect.map(Ledger, (l) => l.repaired)
      )
    ).toEqual([])
  })

  it("leaves no status and no results when a statement of the end fails", async () => {
    const path = join(dir(), "l.duckdb")
    const out = await withLedger(
      path,
      Effect.gen(function* () {
        const l = yield* Ledger
        yield* start("r")
        yield* step("r", 0)
        const failed = yield* Effect.flip(
          l.batch([
            { sql: `UPDATE runs SET status = 'succeeded' WHERE run_id = 'r'` },
            { sql: `INSERT INTO steps SELECT * FROM steps WHERE run_id = 'r'` } // a duplicate key: the batch fails here
          ])
        )
        return { failed: failed.message, runs: yield* l.rows(`SELECT status FROM runs`) }
      })
    )
    expect(out.failed).toMatch(/Duplicate key/)
    expect(out.runs).toEqual([{ status: "running" }])
  })

  it("writes the status and the results row together for a succeeded run", async () => {
    const path = join(dir(), "l.duckdb")
    const out = await withLedger(
      path,
      Effect.gen(function* () {
        yield* start("ok")
        for (let i = 0; i < 4; i++) yield* step("ok", i)
        yield* endRun("ok", {
          status: "succeeded",
          endedAt: t0 + 5,
          finishReason: "window_complete",
          errorKind: null,
          errorMessage: null,
          errorDetail: null,
          exitCode: 0,
          exitSignal: null,
          stderrTail: null
        })
        return yield* (yield* Ledger).rows(`SELECT status, (SELECT count(*)::INT FROM results) AS results FROM runs`)
      })
    )
    expect(out).toEqual([{ status: "succeeded", results: 1 }])
  })
})

describe("cells written in bulk", () => {
  const cell = (i: number): CellRow => ({
    cellHash: `${i}`.padStart(64, "0"),
    label: i % 2 ? `cell ${i}` : null,
    config: { r: i },
    seed: i,
    measure: {},
    axisValues: { r: i },
    trainerDigest: "t",
    datasetDigest: "d"
  })

  it("appends 3,001 cells in one transaction, ignoring those already there, and rolls back whole", async () => {
    const cells = Array.from({ length: 3001 }, (_, i) => cell(i))
    const path = join(dir(), "l.duckdb")
    const out = await withLedger(
      path,
      Effect.gen(function* () {
        const l = yield* Ledger
        yield* l.batch(cellInserts(cells.slice(0, 700)))
        yield* l.batch(cellInserts([...cells, cells[5]!])) // the first 700 again, and one twice
        const stored = yield* l.rows(`SELECT count(*)::INT AS n, count(label)::INT AS labelled, max(seed) AS top,
        max((config->>'$.r')::INT) AS r FROM cells`)
        // a batch that fails after its cells (here: a statement that cannot run) leaves none of them
        const failed = yield* Effect.flip(l.batch([...cellInserts([cell(5000)]), { sql: `SELECT * FROM no_such_table` }]))
        return { stored, failed: failed.message, after: yield* l.rows(`SELECT count(*)::INT AS n FROM cells`) }
      })
    )
    expect(out.stored).toEqual([{ n: 3001, labelled: 1500, top: 3000, r: 3000 }])
    expect(out.failed).toMatch(/no_such_table/)
    expect(out.after).toEqual([{ n: 3001 }])
  })
})

describe("time and intervals", () => {
  it("stamps runs found running at open in UTC, like started_at, whatever TZ is", () => {
    const path = join(dir(), "l.duckdb")
    // a child process, so TZ applies from its start (DuckDB reads it once)
    const script = `
      import { Effect, Layer } from "effect"
      import { Ledger } from "./src/ledger/Ledger.ts"
      import { markOrphansInterrupted, startRun } from "./src/ledger/records.ts"
      const open = (body) => Effect.runPromise(Effect.scoped(body.pipe(Effect.provide(Layer.fresh(Ledger.layer(${JSON.stringify(path)}))))))
      await open(startRun({ runId: "o", cellHash: "c", envHash: "e", gridHash: null, seed: 1, repeat: 0, origin: "live", startedAt: Date.now() / 1000, rerunOf: null }))
      const rows = await open(Effect.andThen(markOrphansInterrupted, Effect.flatMap(Ledger, (l) =>
        l.rows("SELECT epoch(ended_at) - epoch(started_at) AS s, epoch(ended_at) AS ended FROM runs"))))
      console.log(JSON.stringify(rows[0]))`
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, TZ: "America/New_York" },
      encoding: "utf8"
    })
    const row = JSON.parse(out.trim()) as { s: number; ended: number }
    expect(row.s).toBeGreaterThanOrEqual(0)
    expect(row.s).toBeLessThan(60)
    expect(Math.abs(row.ended - Date.now() / 1000)).toBeLessThan(120)
  })

  it("prints INTERVALs as DuckDB writes them, not as {months, days, micros}", async () => {
    const path = join(dir(), "l.duckdb")
    const t = await withLedger(
      path,
      Effect.flatMap(Ledger, (l) =>
        l.rowsJson(`SELECT INTERVAL 90 MINUTE AS d, INTERVAL '1 month 2 days' AS m, NULL::INTERVAL AS n, 1 AS x`)
      )
    )
    expect(t.rows).toEqual([{ d: "01:30:00", m: "1 month 2 days", n: null, x: 1 }])
  })
})

describe("write failures", () => {
  it("counts a repeated step or an out-of-range value as the event's fault, and a full disk as the ledger's", async () => {
    const path = join(dir(), "l.duckdb")
    const errors = await withLedger(
      path,
      Effect.gen(function* () {
        const l = yield* Ledger
        yield* start("r")
        yield* step("r", 0)
        const duplicate = yield* Effect.flip(step("r", 0))
        const range = yield* Effect.flip(
          l.exec(`INSERT INTO steps VALUES ('r', 3000000000, 0, 1, 1, 1, 1, 1, 1, NULL, NULL, NULL, NULL, NULL, 'window')`)
        )
        return { duplicate, range }
      })
    )
    expect(refusedEvent(errors.duplicate)).toMatch(/^Constraint Error: .*Duplicate key/)
    expect(refusedEvent(errors.range)).toMatch(/^Conversion Error: .*3000000000/)
    const disk = new LedgerError({ path, message: "IO Error: Could not write file: No space left on device\n  in: INSERT INTO steps" })
    expect(refusedEvent(disk)).toBeNull()
  })
})
