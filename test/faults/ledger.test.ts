// The ledger under hostile conditions, with real DuckDB files and the real CLI: a path that is not
// writable or not a file, a disk that fills up mid-grid (a real tmpfs, when this user may mount
// one), paths with spaces, quotes and `..`, writing statements given to `sql`, and config values
// that look like shell commands.
import { execa } from "execa"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, fakePython, injected, query, realPython, root, tempDir, tinyGrid } from "./harness.ts"

const isRoot = process.getuid?.() === 0
const canMount = isRoot && (await execa("unshare", ["-m", "true"], { reject: false })).exitCode === 0
const canDropToNobody = isRoot && (await execa("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"], { reject: false })).exitCode === 0

describe("a ledger that cannot be written", () => {
  const dir = tempDir("ledger-paths")
  const grid = tinyGrid(dir, [1])

  it("names the path and says a directory is not a ledger file", async () => {
    mkdirSync(join(dir, "adir.duckdb"))
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(dir, "adir.duckdb")])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`cannot open ledger ${join(dir, "adir.duckdb")}: that path is a directory`)
  })

  it("names the path when a part of it is a file", async () => {
    writeFileSync(join(dir, "afile"), "")
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(dir, "afile", "l.duckdb")])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`cannot open ledger ${join(dir, "afile", "l.duckdb")}: a part of the path is a file, not a directory`)
  })

  it.skipIf(!canDropToNobody && isRoot)("says the ledger is not writable by this user, and writes nothing", async () => {
    const locked = join(dir, "locked")
    mkdirSync(locked, { mode: 0o555 })
    const ledger = join(locked, "l.duckdb")
    const args = [process.execPath, join(root, "src/cli.ts"), "run", grid, "--no-tui", "--ledger", ledger]
    const r = isRoot
      ? await execa("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...args], { cwd: root, reject: false })
      : await execa(args[0]!, args.slice(1), { cwd: root, reject: false })
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`cannot open ledger ${ledger}: not writable by this user`)
    expect(readdirSync(locked)).toEqual([])
  })
})

describe.skipIf(!canMount)("the disk fills up (a real 256 KiB tmpfs)", () => {
  it("stops with a clear message; the ledger keeps every finished run and the next run resumes", async () => {
    const dir = tempDir("disk-full")
    const small = join(dir, "small")
    const saved = join(dir, "saved")
    mkdirSync(small)
    mkdirSync(saved)
    const grid = tinyGrid(dir, [1, 2, 3, 4, 5, 6])
    // cells fail fast through the fake trainer, each writing its artifacts until the disk is full
    const env = injected(dir, { TUNEGRID_FAKE: "1:exit,2:exit,3:exit,4:exit,5:exit,6:exit" })
    const script = `mount -t tmpfs -o size=256k tmpfs "$0" && "$1" "$2" run "$3" --no-tui --ledger "$0/l.duckdb" --python "$4" 2>"$5/stderr"; echo $? >"$5/rc"; cp "$0"/l.duckdb* "$5"/`
    await execa("unshare", ["-m", "sh", "-c", script, small, process.execPath, join(root, "src/cli.ts"), grid, fakePython, saved], { cwd: root, env, reject: false })
    expect(readFileSync(join(saved, "rc"), "utf8").trim()).toBe("1")
    const stderr = readFileSync(join(saved, "stderr"), "utf8")
    expect(stderr).toMatch(/the disk is full \(no space left on device\)\. .*free some space and run again: the grid resumes where it stopped/)
    expect(stderr).not.toMatch(/\n\s+at /)
    // with space again (the saved copy on the real disk) the ledger opens, nothing is half-written,
    // and a run picks up: any run left `running` becomes interrupted, the grid is recorded whole
    const ledger = join(saved, "l.duckdb")
    const again = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], env)
    expect(again.exitCode, String(again.stderr)).toBe(3) // it ran to the end; every cell failed (src/commands/exit.ts)
    const [c] = await query(ledger, `SELECT (SELECT count(*) FROM cells)::INT AS cells, (SELECT count(*) FROM runs WHERE status = 'running')::INT AS running,
      (SELECT count(*) FROM runs WHERE status = 'failed' AND error_kind = 'crash' AND exit_code = 7)::INT AS recorded`)
    expect(c).toMatchObject({ cells: 6, running: 0 })
    expect(c!.recorded).toBeGreaterThanOrEqual(6)
  }, 180_000)
})

describe("hostile input", () => {
  const dir = tempDir("hostile")

  it("runs a grid and a ledger whose paths have spaces, quotes and `..`", async () => {
    const odd = join(dir, `it's a "quoted" dir`)
    mkdirSync(odd)
    const grid = tinyGrid(odd, [1], 3, "quoted", "grid with 'quotes'.ts")
    const gridArg = join(odd, "..", `it's a "quoted" dir`, `grid with 'quotes'.ts`)
    const ledgerArg = join(odd, "..", `led ger "1"; DROP TABLE runs.duckdb`)
    const r = await cli(["run", gridArg, "--no-tui", "--ledger", ledgerArg, "--python", fakePython], injected(dir, { TUNEGRID_FAKE: "1:exit" }))
    expect(r.exitCode, String(r.stderr)).toBe(3) // the grid ran; its one cell failed
    const ledger = resolve(ledgerArg)
    expect(existsSync(ledger)).toBe(true)
    const [g] = await query(ledger, `SELECT source_path, (SELECT count(*)::INT FROM runs) AS runs FROM grids`)
    expect(g).toEqual({ source_path: grid, runs: 1 })
  }, 60_000)

  it("refuses writing statements in `sql` and leaves the ledger unchanged", async () => {
    const ledger = resolve(join(dir, `led ger "1"; DROP TABLE runs.duckdb`))
    for (const statement of ["DELETE FROM runs", "DROP TABLE runs", "UPDATE runs SET status = 'succeeded'", "SELECT 1; DELETE FROM runs",
      "CREATE TABLE x AS SELECT 1", `COPY runs TO '${join(dir, "leak.csv")}'`, `ATTACH '${join(dir, "other.duckdb")}' AS o`]) {
      const r = await cli(["sql", statement, "--ledger", ledger])
      expect(r.exitCode, statement).toBe(1)
      expect(r.stderr, statement).toMatch(/the sql command is read-only/)
    }
    expect(existsSync(join(dir, "leak.csv"))).toBe(false)
    expect(existsSync(join(dir, "other.duckdb"))).toBe(false)
    expect(await query(ledger, `SELECT count(*)::INT AS n, min(status) AS s FROM runs`)).toEqual([{ n: 1, s: "failed" }])
  }, 60_000)

  it("trains on a data file named relative to the grid, in a folder with spaces, counting over-length samples", async () => {
    const sub = join(tempDir("data"), "my data")
    mkdirSync(sub)
    const row = (output: string) => JSON.stringify({ instruction: "Say it.", input: "", output })
    writeFileSync(join(sub, "rows 1.jsonl"), [row("short"), row("long ".repeat(200)), row("fine"), ""].join("\n"))
    const grid = join(sub, "g.ts")
    writeFileSync(grid, `export default {
  name: "data", base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, gradientCheckpointing: false, dataset: "file:rows 1.jsonl" },
  seeds: [1], measure: { warmup: "1 steps", window: "2 steps", maxDuration: "60s" }
}
`)
    const r = await cli(["run", grid, "--no-tui", "--sampler", "none", "--ledger", join(sub, "l.duckdb")])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const [run] = await query(join(sub, "l.duckdb"), `SELECT status, data_facts->>'$.samples' AS samples, data_facts->>'$.truncated' AS truncated,
      (SELECT min(tokens) FROM steps) AS min_tokens FROM runs`)
    expect(run).toMatchObject({ status: "succeeded", samples: "3", truncated: "1" })
    expect(Number(run!.min_tokens)).toBeGreaterThan(0)
  }, 120_000)

  it("passes shell-looking config values to the trainer as data, never through a shell", async () => {
    const sub = tempDir("shell")
    const grid = tinyGrid(sub, [1])
    const pwned = join(sub, "PWNED")
    // a tokenizer file is found missing by the trainer (a `local:` model folder is refused before any trainer starts)
    const value = `file:/nonexistent; touch ${pwned} $(touch ${pwned}) \`touch ${pwned}\``
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(sub, "l.duckdb"), "--python", realPython, "--set", `base.tokenizer=${value}`],
      { NO_COLOR: "1" })
    expect(r.exitCode, String(r.stderr)).toBe(3) // the run failed, as recorded below
    expect(existsSync(pwned)).toBe(false)
    const [run] = await query(join(sub, "l.duckdb"), `SELECT status, error_kind, error_message, c.config->>'$.tokenizer' AS model FROM runs JOIN cells c USING (cell_hash)`)
    expect(run!.model).toBe(value) // stored verbatim
    expect(run).toMatchObject({ status: "failed", error_kind: "bad_spec" })
    expect(String(run!.error_message)).toContain("/nonexistent; touch")
  }, 120_000)
})
