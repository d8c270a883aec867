// Reruns, SQL analysis, export and plots on one real ledger: a shortened demo grid (2 configs ×
// 2 repeats, deterministic, 1 warm-up + 4 window steps) run by the real CLI with the real trainer
// on the CPU. Views are checked against figures recomputed here from the raw steps; reruns run on
// copies of the ledger so the fixture stays as built.
import { DuckDBInstance } from "@duckdb/node-api"
import { execa } from "execa"
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { findPython, PythonNotFound } from "../src/trainer/python.ts"

const root = resolve(import.meta.dirname, "..")
const cli = (args: Array<string>, input?: string) =>
  execa(process.execPath, [join(root, "src/cli.ts"), ...args], {
    cwd: root,
    reject: false,
    env: { NO_COLOR: "1" },
    timeout: 600_000,
    ...(input === undefined ? {} : { input })
  })

const withDb = async <A>(
  file: string,
  readOnly: boolean,
  f: (run: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<A>
) => {
  const db = await DuckDBInstance.create(file, readOnly ? { access_mode: "READ_ONLY" } : {})
  const conn = await db.connect()
  try {
    return await f(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>)
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}
const query = (file: string, sql: string) => withDb(file, true, (run) => run(sql))

const python = findPython(null)
const dir = mkdtempSync(join(tmpdir(), "tunegrid-analysis-"))
const ledger = join(dir, "fixture.duckdb")
let counter = 0
const copyLedger = () => {
  const copy = join(dir, `copy-${++counter}.duckdb`)
  copyFileSync(ledger, copy)
  return copy
}

/** tok/s per run recomputed from the steps table: window real tokens / window wall time. */
const tokSPerRun = async () =>
  new Map(
    (
      await query(
        ledger,
        `SELECT run_id, sum(tokens)::DOUBLE AS tok, max(t_end) - min(t_start) AS secs FROM steps WHERE phase = 'window' GROUP BY run_id`
      )
    ).map((r) => [String(r.run_id), Number(r.tok) / Number(r.secs)])
  )

describe.skipIf(python instanceof PythonNotFound)("reruns and SQL analysis on a real demo ledger (CPU)", () => {
  beforeAll(async () => {
    const r = await cli([
      "run",
      "experiments/demo.ts",
      "--no-tui",
      "--ledger",
      ledger,
      "--set",
      "axes.batchSize=[1]",
      "--set",
      "repeats=2",
      "--set",
      "base.deterministic=true",
      "--set",
      "measure.warmup=1 steps",
      "--set",
      "measure.window=4 steps"
    ])
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
  }, 600_000)

  it("cell_summary gives each config's mean, sd and 95% CI of tok/s over its runs", async () => {
    const perRun = await tokSPerRun()
    const runs = await query(ledger, `SELECT r.run_id, CAST(c.config AS VARCHAR) AS config FROM runs r JOIN cells c USING (cell_hash)`)
    const byConfig = new Map<string, Array<number>>()
    for (const r of runs) byConfig.set(String(r.config), [...(byConfig.get(String(r.config)) ?? []), perRun.get(String(r.run_id))!])
    const rows = await query(
      ledger,
      `SELECT CAST(config AS VARCHAR) AS config, n, tok_s_mean, tok_s_sd, tok_s_ci_low, tok_s_ci_high FROM cell_summary`
    )
    expect(rows).toHaveLength(2)
    for (const row of rows) {
      const xs = byConfig.get(String(row.config))!
      expect(xs).toHaveLength(2)
      const mean = (xs[0]! + xs[1]!) / 2
      const sd = Math.abs(xs[0]! - xs[1]!) / Math.SQRT2
      expect(Number(row.n)).toBe(2)
      expect(Number(row.tok_s_mean)).toBeCloseTo(mean, 9)
      expect(Number(row.tok_s_sd)).toBeCloseTo(sd, 9)
      expect(Number(row.tok_s_ci_high)).toBeCloseTo(mean + (12.706 * sd) / Math.SQRT2, 6) // t(0.975, df 1) = 12.706
      expect(Number(row.tok_s_ci_low)).toBeCloseTo(Math.max(0, mean - (12.706 * sd) / Math.SQRT2), 6) // tok/s is never below 0
    }
  })

  it("factor_effect compares learning rates with everything else held fixed", async () => {
    const perRun = await tokSPerRun()
    const lr = await query(
      ledger,
      `SELECT r.run_id, (c.config->>'$.learningRate')::DOUBLE AS lr FROM runs r JOIN cells c USING (cell_hash)`
    )
    const meanAt = (v: number) => {
      const xs = lr.filter((r) => Number(r.lr) === v).map((r) => perRun.get(String(r.run_id))!)
      return xs.reduce((a, b) => a + b, 0) / xs.length
    }
    const rows = await query(ledger, `SELECT held, level, n, tok_s_mean, tok_s_ratio FROM factor_effect('learningRate')`)
    expect(rows.map((r) => [r.level, Number(r.n)])).toEqual([
      ["0.003", 2],
      ["0.01", 2]
    ])
    expect(new Set(rows.map((r) => r.held)).size).toBe(1)
    expect(Number(rows[1]!.tok_s_ratio)).toBeCloseTo(meanAt(0.01) / meanAt(0.003), 9)
  })

  it("factor_effect names an unknown factor in its error", async () => {
    const r = await cli(["sql", "--ledger", ledger, "SELECT * FROM factor_effect('batchsize')"])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain("no cell has a field named 'batchsize'")
  })

  it("pareto keeps the fastest config and drops configs whose memory is unknown unless asked", async () => {
    const means = await query(ledger, `SELECT config_id, tok_s_mean FROM cell_summary ORDER BY tok_s_mean DESC`)
    const frontier = await query(ledger, `SELECT config_id FROM pareto(7680, include_unmeasured := true)`)
    // On the CPU nothing measures VRAM or energy, so only tok/s separates the configs.
    expect(frontier.map((r) => r.config_id)).toEqual([means[0]!.config_id])
    expect(await query(ledger, `SELECT * FROM pareto(7680)`)).toEqual([])
  })

  it("compare_runs puts two runs' figures side by side", async () => {
    const perRun = await tokSPerRun()
    const [a, b] = [...perRun.keys()]
    const rows = await query(
      ledger,
      `SELECT metric, a, b, ratio FROM compare_runs('${a!.slice(0, 8)}', '${b!.slice(0, 8)}') WHERE metric = 'tok_s'`
    )
    expect(Number(rows[0]!.a)).toBeCloseTo(perRun.get(a!)!, 9)
    expect(Number(rows[0]!.ratio)).toBeCloseTo(perRun.get(b!)! / perRun.get(a!)!, 9)
  })

  it("paired_runs compares two runs of one config on the same steps, with a batch-means CI of the ratio", async () => {
    const [pair] = await query(
      ledger,
      `SELECT list(run_id ORDER BY started_at) AS ids FROM runs GROUP BY cell_hash ORDER BY min(started_at) LIMIT 1`
    )
    const [a, b] = pair!.ids as Array<string>
    // Each window step owns the wall time since its run's previous window step ended (the first: its own span).
    const steps = await query(
      ledger,
      `SELECT run_id, step, t_start, t_end, tokens FROM steps WHERE run_id IN ('${a}', '${b}') AND phase = 'window' ORDER BY run_id, step`
    )
    const window = (id: string) => {
      const own = steps.filter((s) => s.run_id === id)
      return new Map(
        own.map(
          (s, i) =>
            [
              Number(s.step),
              {
                tokens: Number(s.tokens),
                d: Number(s.t_end) - (i === 0 ? Number(s.t_start) : Number(own[i - 1]!.t_end))
              }
            ] as const
        )
      )
    }
    const [wa, wb] = [window(a!), window(b!)]
    const paired = [...wa]
      .filter(([step, s]) => wb.get(step)?.tokens === s.tokens)
      .map(([step, s]) => ({ tokens: s.tokens, da: s.d, db: wb.get(step)!.d }))
    expect(paired).toHaveLength(4) // same config and seed: every window step carries the same tokens
    const tokens = paired.reduce((t, p) => t + p.tokens, 0)
    const [sumA, sumB] = [paired.reduce((t, p) => t + p.da, 0), paired.reduce((t, p) => t + p.db, 0)]
    // k = clamp(⌊√4⌋, 2, 20) = 2 batches of two steps; t(0.975, df 1) = 12.706
    const ratio = sumA / sumB
    const batches = [paired.slice(0, 2), paired.slice(2)].map(
      (ps) => ps.reduce((t, p) => t + p.da, 0) - ratio * ps.reduce((t, p) => t + p.db, 0)
    )
    const half = (12.706 * Math.sqrt(batches.reduce((t, r) => t + r * r, 0) / 1 / 2)) / (sumB / 2)

    const [row] = await query(ledger, `SELECT * FROM paired_runs('${a!.slice(0, 8)}', '${b!.slice(0, 8)}')`)
    expect(row).toMatchObject({ a_run_id: a, b_run_id: b, paired_steps: 4, mismatched_steps: 0, ci_batches: 2 })
    expect(Number(row!.tokens)).toBe(tokens)
    expect(Number(row!.a_tok_s)).toBeCloseTo(tokens / sumA, 9)
    expect(Number(row!.b_tok_s)).toBeCloseTo(tokens / sumB, 9)
    const perRun = await tokSPerRun() // every step paired: each side is its run's own window tok/s
    expect(Number(row!.a_tok_s)).toBeCloseTo(perRun.get(a!)!, 9)
    expect(Number(row!.b_tok_s)).toBeCloseTo(perRun.get(b!)!, 9)
    expect(Number(row!.ratio)).toBeCloseTo(ratio, 12)
    expect(Number(row!.ratio_ci_high) - Number(row!.ratio)).toBeCloseTo(half, 9)
    expect(Number(row!.ratio_ci_low)).toBeLessThan(Number(row!.ratio))
    expect(Number(row!.ratio)).toBeLessThan(Number(row!.ratio_ci_high))
  })

  it("paired_runs takes each window from the results, not from the phase the run saw while it went on", async () => {
    const copy = copyLedger()
    const [a, b] = [...(await tokSPerRun()).keys()]
    const sql = `SELECT paired_steps, ratio FROM paired_runs('${a!.slice(0, 8)}', '${b!.slice(0, 8)}')`
    const [before] = await query(copy, sql)
    // a detected cut settles after the run: steps streamed as "window" can end up in the warm-up
    await withDb(copy, false, (run) => run(`UPDATE steps SET phase = 'warmup' WHERE step = 2; CHECKPOINT`))
    expect(await query(copy, sql)).toEqual([before])
    expect(before!.paired_steps).toBe(4)
  })

  it("paired_runs names a prefix that matches no run, or more than one, in its error", async () => {
    const [run] = await query(ledger, `SELECT run_id, cell_hash FROM runs ORDER BY started_at LIMIT 1`)
    const unknown = await cli(["sql", "--ledger", ledger, `SELECT * FROM paired_runs('zzzz', '${String(run!.run_id).slice(0, 8)}')`])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain("paired_runs: 'zzzz' matches 0 succeeded runs")
    const cell = String(run!.cell_hash).slice(0, 12) // both repeats of the config share this cell hash
    const ambiguous = await cli(["sql", "--ledger", ledger, `SELECT * FROM paired_runs('${String(run!.run_id).slice(0, 8)}', '${cell}')`])
    expect(ambiguous.exitCode).toBe(1)
    expect(ambiguous.stderr).toContain(`paired_runs: '${cell}' matches 2 succeeded runs`)
  })

  it("sql on a ledger written by an older tunegrid still has the current views and macros, and leaves the file as it was", async () => {
    const old = copyLedger()
    await withDb(old, false, (run) => run("DROP MACRO TABLE paired_runs; DROP VIEW cell_summary; CHECKPOINT"))
    const [a, b] = [...(await tokSPerRun()).keys()]
    const r = await cli([
      "sql",
      "--ledger",
      old,
      "--format",
      "csv",
      `SELECT paired_steps FROM paired_runs('${a!.slice(0, 8)}', '${b!.slice(0, 8)}') UNION ALL SELECT count(*) FROM cell_summary`
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim().split("\n")).toEqual(["paired_steps", "4", "2"])
    const tables = await cli(["sql", "--ledger", old], ".tables\n.quit\n")
    expect(tables.stdout.match(/paired_runs\(a, b\)/g)).toHaveLength(1)
    const stored = await query(old, `SELECT count(*)::INT AS n FROM duckdb_functions() WHERE function_name = 'paired_runs'`)
    expect(stored[0]!.n).toBe(0) // read-only: the file did not gain them
  })

  it("sql reports bad SQL without a stack trace, naming what the ledger has", async () => {
    const r = await cli(["sql", "--ledger", ledger, "SELECT * FROM tabel1"])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain("Table with name tabel1 does not exist")
    expect(r.stderr).toMatch(/views: .*table1/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const syntax = await cli(["sql", "--ledger", ledger, "SELEC 1"])
    expect(syntax.stderr).toMatch(/^error: Parser Error: syntax error at or near "SELEC"/)
  })

  it("sql with no query reads statements from stdin until ; and stops at .quit", async () => {
    const r = await cli(
      ["sql", "--ledger", ledger, "--format", "csv"],
      "SELECT count(*)::INT AS runs\n  FROM runs;\nSELECT 'a;b' AS s;\n.quit\nSELECT 99;\n"
    )
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim().split("\n")).toEqual(["runs", "4", "s", "a;b"])
  })

  it("export writes every table as Parquet and a query as CSV, both readable back", async () => {
    const out = join(dir, "export")
    expect((await cli(["export", "--ledger", ledger, "--out", out])).exitCode).toBe(0)
    const csv = join(dir, "table1.csv")
    expect(
      (await cli(["export", "--ledger", ledger, "--out", csv, "--format", "csv", "--query", "SELECT run, tok_s FROM table1"])).exitCode
    ).toBe(0)
    const [back] = await withDb(":memory:", false, (run) =>
      run(`SELECT
      (SELECT count(*) FROM '${out}/steps.parquet')::INT AS steps, (SELECT count(*) FROM '${out}/runs.parquet')::INT AS runs,
      (SELECT count(*) FROM read_csv('${csv}'))::INT AS table1`)
    )
    const [orig] = await query(
      ledger,
      `SELECT (SELECT count(*) FROM steps)::INT AS steps, (SELECT count(*) FROM runs)::INT AS runs, (SELECT count(*) FROM table1)::INT AS table1`
    )
    expect(back).toEqual(orig)
  })

  it("plot draws each grid's figures as SVG and PNG with one bar and one error bar per config, and no empty chart for what the CPU did not measure", async () => {
    const out = join(dir, "plots")
    const r = await cli(["plot", "--ledger", ledger, "--out", out])
    expect(r.exitCode, r.stderr).toBe(0)
    for (const name of ["throughput", "t10k"])
      for (const ext of ["svg", "png"]) expect(r.stdout).toContain(join(out, `demo-${name}.${ext}`))
    expect(r.stdout).toMatch(/skipped .*demo-j_per_token: energy was not measured/)
    expect(r.stdout).toMatch(/skipped .*demo-memory: VRAM was not measured/)
    const throughput = readFileSync(join(out, "demo-throughput.svg"), "utf8")
    expect(throughput.match(/aria-roledescription="bar"/g)).toHaveLength(2)
    expect(throughput.match(/aria-roledescription="errorbar"/g)).toHaveLength(2)
  })

  it("a deterministic rerun reproduces the loss bit for bit and says reproduced (exit 0)", async () => {
    const copy = copyLedger()
    const [source] = await query(copy, `SELECT run_id FROM runs ORDER BY started_at LIMIT 1`)
    const id = String(source!.run_id)
    // CPU tok/s on a shared machine swings by tens of percent, so throughput gets a wide tolerance here.
    const r = await cli(["rerun", id.slice(0, 8), "--ledger", copy, "--tolerance", "1"])
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain("loss       reproduced: 5 steps bit-identical (deterministic mode, same environment)")
    expect(r.stdout).toMatch(/verdict: reproduced .*exit 0/)
    const [link] = await query(copy, `SELECT run_id, status FROM runs WHERE rerun_of = '${id}'`)
    expect(link!.status).toBe("succeeded")
    const [diff] = await query(
      copy,
      `SELECT count(*)::INT AS steps, count(*) FILTER (WHERE a.loss IS DISTINCT FROM b.loss)::INT AS different
      FROM steps a JOIN steps b ON a.step = b.step WHERE a.run_id = '${id}' AND b.run_id = '${String(link!.run_id)}'`
    )
    expect(diff).toEqual({ steps: 5, different: 0 })
  }, 300_000)

  it("a rerun whose loss differs from the recorded one at a step says not reproduced (exit 3)", async () => {
    const copy = copyLedger()
    const id = await withDb(copy, false, async (run) => {
      const [src] = await run(`SELECT run_id FROM runs ORDER BY started_at LIMIT 1`)
      await run(`UPDATE steps SET loss = loss + 1e-9 WHERE run_id = '${String(src!.run_id)}' AND step = 2`)
      return String(src!.run_id)
    })
    const r = await cli(["rerun", id.slice(0, 8), "--ledger", copy, "--tolerance", "1"])
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(3)
    expect(r.stdout).toMatch(/loss {7}not reproduced: 5 steps, expected bit-identical .*; first difference at step 2/)
    // throughput may disagree too when the fixture was built on a busy machine: the loss must be named
    expect(r.stdout).toMatch(/verdict: not reproduced \(loss(, throughput)? not reproduced\) — exit 3/)
  }, 300_000)

  it("a rerun after an environment change reports the changed field (exit 4)", async () => {
    const copy = copyLedger()
    const id = await withDb(copy, false, async (run) => {
      const [src] = await run(`SELECT run_id, env_hash FROM runs ORDER BY started_at LIMIT 1`)
      await run(`INSERT INTO environments SELECT 'old-env', json_merge_patch(hashed, '{"python": "3.9.0"}'), facts, gpu_name, gpu_memory_mib,
        driver, cuda, torch, '3.9.0', hostname, git_commit, git_dirty, captured_at FROM environments WHERE env_hash = '${String(src!.env_hash)}'`)
      await run(`UPDATE runs SET env_hash = 'old-env' WHERE run_id = '${String(src!.run_id)}'`)
      return String(src!.run_id)
    })
    const r = await cli(["rerun", id.slice(0, 8), "--ledger", copy, "--tolerance", "1"])
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(4)
    expect(r.stdout).toMatch(/changed {4}python: 3\.9\.0 → 3\.\d+\.\d+/)
    expect(r.stdout).toMatch(/same {7}gpu_name, .*torch/)
    expect(r.stdout).toMatch(/verdict: environment changed \(python changed; .*\) — exit 4/)
  }, 300_000)

  it("refuses (exit 6) when the trainer source changed unless --force, and resolves prefixes", async () => {
    const copy = copyLedger()
    const { id, cell } = await withDb(copy, false, async (run) => {
      const [src] = await run(`SELECT run_id, cell_hash FROM runs ORDER BY started_at LIMIT 1`)
      await run(`UPDATE cells SET trainer_digest = 'feed' WHERE cell_hash = '${String(src!.cell_hash)}'`)
      // a second run whose id shares the first 8 characters, to make that prefix ambiguous
      await run(`INSERT INTO runs SELECT * REPLACE (run_id || '-twin' AS run_id) FROM runs WHERE run_id = '${String(src!.run_id)}'`)
      return { id: String(src!.run_id), cell: String(src!.cell_hash) }
    })
    const refused = await cli(["rerun", cell.slice(0, 12), "--ledger", copy])
    expect(refused.exitCode, `${refused.stdout}\n${refused.stderr}`).toBe(6)
    expect(refused.stdout).toContain("changed    trainer_source: feed → ")
    expect(refused.stdout).toMatch(/refused: the trainer source changed since the original run/)
    const ambiguous = await cli(["rerun", id.slice(0, 8), "--ledger", copy])
    expect(ambiguous.exitCode).toBe(1)
    expect(ambiguous.stderr).toMatch(/is ambiguous: it starts 2 run id\(s\)/)
    const unknown = await cli(["rerun", "zzzz", "--ledger", copy])
    expect(unknown.stderr).toContain(`no run id or cell hash in the ledger starts with "zzzz"`)
    expect(await query(copy, `SELECT count(*)::INT AS n FROM runs WHERE rerun_of IS NOT NULL`)).toEqual([{ n: 0 }])
    // --force runs it anyway and says the inputs changed; bit-identity is no longer expected.
    const forced = await cli(["rerun", cell.slice(0, 12), "--ledger", copy, "--force", "--tolerance", "1"])
    expect(forced.exitCode, `${forced.stdout}\n${forced.stderr}`).toBe(4)
    expect(forced.stdout).toMatch(/verdict: environment changed \(trainer_source changed; /)
    expect(forced.stdout).toContain("loss       reproduced: 5 steps within ±2% of the original at every step")
    expect(await query(copy, `SELECT status FROM runs WHERE rerun_of IS NOT NULL`)).toEqual([{ status: "succeeded" }])
  }, 300_000)
})
