// The ledger under hostile conditions, with real DuckDB files and the real CLI: a path that is not
// writable or not a file, a data file (JSON, CSV) given as the ledger, an export onto the ledger, a
// disk that fills up mid-grid (a real tmpfs, when this user may mount one), paths with spaces,
// quotes and `..`, writing statements given to `sql`, the interactive prompt's statement splitting
// and the runner's refusal naming an idle prompt, and config values that look like shell commands.
import { execa } from "execa"
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cli, fakePython, injected, query, realPython, root, tempDir, tinyGrid } from "./harness.ts"

const isRoot = process.getuid?.() === 0
const canMount = isRoot && (await execa("unshare", ["-m", "true"], { reject: false })).exitCode === 0
const canDropToNobody =
  isRoot && (await execa("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"], { reject: false })).exitCode === 0

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

/** A one-cell grid and a ledger holding its one succeeded run (the fake trainer's four steps). */
const ledgerWithOneRun = async (name: string, ledgerName = "l.duckdb") => {
  const dir = tempDir(name)
  const grid = tinyGrid(dir, [1])
  const ledger = join(dir, ledgerName)
  const r = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], injected(dir, { TUNEGRID_FAKE: "1:steps" }))
  expect(r.exitCode, String(r.stderr)).toBe(0)
  return { dir, grid, ledger }
}

describe("a data file given as the ledger", () => {
  it("refuses report output given back as --ledger, naming it, before any trainer starts, and leaves it as it was", async () => {
    const { dir, grid, ledger: first } = await ledgerWithOneRun("data-ledger")
    const report = await cli(["report", "--format", "json", "--ledger", first])
    const json = join(dir, "report.json")
    writeFileSync(json, String(report.stdout))
    const csv = join(dir, "table1.csv")
    writeFileSync(csv, String((await cli(["sql", "SELECT * FROM table1", "--format", "csv", "--ledger", first])).stdout))
    const sub = tempDir("data-ledger-calls")
    for (const file of [json, csv]) {
      const before = readFileSync(file)
      for (const args of [["run", grid, "--no-tui", "--python", fakePython], ["report"], ["sql", "SELECT 1"]]) {
        const r = await cli([...args, "--ledger", file], injected(sub, { TUNEGRID_FAKE: "1:steps" }))
        expect(r.exitCode, args[0]).toBe(1)
        expect(r.stderr).toContain(`${file} is a ${file.endsWith(".json") ? "JSON or JSON-lines" : "CSV/TSV"} file, not a tunegrid ledger`)
        expect(r.stderr).toMatch(/nothing would be saved/)
      }
      expect(readFileSync(file)).toEqual(before)
    }
    expect(existsSync(join(sub, "python-calls.log"))).toBe(false) // refused before even the environment probe
  }, 120_000)
})

describe("export onto the ledger", () => {
  it("refuses --out naming the ledger, its WAL or (through a link) the same file, and the ledger stays whole", async () => {
    const { dir, ledger } = await ledgerWithOneRun("export-self", "self.duckdb")
    const before = readFileSync(ledger)
    symlinkSync(ledger, join(dir, "link.duckdb"))
    for (const [out, extra] of [
      [ledger, ["--query", "SELECT 1"]],
      [ledger, []],
      [`${ledger}.wal`, ["--query", "SELECT 1"]],
      [join(dir, "link.duckdb"), ["--query", "SELECT 1", "--format", "csv"]],
      [join(dir, ".", "self.duckdb"), ["--query", "SELECT 1"]]
    ] as const) {
      const r = await cli(["export", "--ledger", ledger, "--out", out, ...extra])
      expect(r.exitCode, out).toBe(1)
      expect(r.stderr, out).toMatch(/would overwrite (the ledger itself|.*\.wal)/)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
    expect(existsSync(`${ledger}.wal`)).toBe(false)
    expect(readFileSync(ledger)).toEqual(before)
    expect(await query(ledger, `SELECT count(*)::INT AS n FROM runs`)).toEqual([{ n: 1 }])
    const ok = await cli([
      "export",
      "--ledger",
      ledger,
      "--out",
      join(dir, "out.csv"),
      "--query",
      "SELECT status FROM runs",
      "--format",
      "csv"
    ])
    expect(ok.exitCode, String(ok.stderr)).toBe(0)
    expect(readFileSync(join(dir, "out.csv"), "utf8")).toBe("status\nsucceeded\n")
  }, 120_000)
})

describe("the interactive sql prompt", () => {
  let at: Awaited<ReturnType<typeof ledgerWithOneRun>>
  beforeAll(async () => {
    at = await ledgerWithOneRun("sql-prompt")
  }, 120_000)

  it("splits statements right around a `--` comment with an apostrophe and a $$ body with a ;, and prints INTERVALs", async () => {
    const { ledger } = at
    const input =
      "SELECT 41 + 1 AS answer -- it's the answer; really\n;\nSELECT $$a;b$$ AS body;\n/* it's; */ SELECT INTERVAL 90 MINUTE AS span;\n"
    const r = await cli(["sql", "--ledger", ledger, "--format", "csv"], {}, { input })
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(r.stdout).toBe("answer\n42\nbody\na;b\nspan\n01:30:00")
  }, 120_000)

  it("names an idle prompt as what holds the ledger when a run is refused, and the run goes once it has left", async () => {
    const { dir, grid, ledger } = at
    const prompt = execa(process.execPath, [join(root, "src/cli.ts"), "sql", "--ledger", ledger], {
      cwd: root,
      reject: false,
      env: { NO_COLOR: "1" }
    })
    let seen = ""
    prompt.stdout!.on("data", (chunk: Buffer) => (seen += chunk.toString()))
    prompt.stdin!.write("SELECT 'open' AS state;\n")
    const until = Date.now() + 60_000
    while (!seen.includes("open") && Date.now() < until) await new Promise((r) => setTimeout(r, 100))
    const refused = await cli(
      ["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
      injected(dir, { TUNEGRID_FAKE: "1:steps" })
    )
    prompt.stdin!.end(".quit\n")
    await prompt
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(`ledger ${ledger} is open in \`tunegrid sql\` (PID ${prompt.pid}: `)
    expect(refused.stderr).toMatch(/a runner needs the ledger to itself: leave that prompt \(\.quit\), then run again/)
    expect(refused.stderr).not.toMatch(/another runner|only one runner writes/)
    const after = await cli(
      ["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
      injected(dir, { TUNEGRID_FAKE: "1:steps" })
    )
    expect(after.exitCode, String(after.stderr)).toBe(0)
  }, 120_000)
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
    await execa("unshare", ["-m", "sh", "-c", script, small, process.execPath, join(root, "src/cli.ts"), grid, fakePython, saved], {
      cwd: root,
      env,
      reject: false
    })
    expect(readFileSync(join(saved, "rc"), "utf8").trim()).toBe("1")
    const stderr = readFileSync(join(saved, "stderr"), "utf8")
    expect(stderr).toMatch(
      /the disk is full \(no space left on device\)\. .*free some space and run again: the grid resumes where it stopped/
    )
    expect(stderr).not.toMatch(/\n\s+at /)
    // with space again (the saved copy on the real disk) the ledger opens, nothing is half-written,
    // and a run picks up: any run left `running` becomes interrupted, the grid is recorded whole
    const ledger = join(saved, "l.duckdb")
    const again = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], env)
    expect(again.exitCode, String(again.stderr)).toBe(3) // it ran to the end; every cell failed (src/cli/exit.ts)
    const [c] = await query(
      ledger,
      `SELECT (SELECT count(*) FROM cells)::INT AS cells, (SELECT count(*) FROM runs WHERE status = 'running')::INT AS running,
      (SELECT count(*) FROM runs WHERE status = 'failed' AND error_kind = 'crash' AND exit_code = 7)::INT AS recorded`
    )
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
    const r = await cli(
      ["run", gridArg, "--no-tui", "--ledger", ledgerArg, "--python", fakePython],
      injected(dir, { TUNEGRID_FAKE: "1:exit" })
    )
    expect(r.exitCode, String(r.stderr)).toBe(3) // the grid ran; its one cell failed
    const ledger = resolve(ledgerArg)
    expect(existsSync(ledger)).toBe(true)
    const [g] = await query(ledger, `SELECT source_path, (SELECT count(*)::INT FROM runs) AS runs FROM grids`)
    expect(g).toEqual({ source_path: grid, runs: 1 })
  }, 60_000)

  it("refuses writing statements in `sql` and leaves the ledger unchanged", async () => {
    const ledger = resolve(join(dir, `led ger "1"; DROP TABLE runs.duckdb`))
    for (const statement of [
      "DELETE FROM runs",
      "DROP TABLE runs",
      "UPDATE runs SET status = 'succeeded'",
      "SELECT 1; DELETE FROM runs",
      "CREATE TABLE x AS SELECT 1",
      `COPY runs TO '${join(dir, "leak.csv")}'`,
      `ATTACH '${join(dir, "other.duckdb")}' AS o`
    ]) {
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
    writeFileSync(
      grid,
      `export default {
  name: "data", base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, gradientCheckpointing: false, dataset: "file:rows 1.jsonl" },
  seeds: [1], measure: { warmup: "1 steps", window: "2 steps", maxDuration: "60s" }
}
`
    )
    const r = await cli(["run", grid, "--no-tui", "--sampler", "none", "--ledger", join(sub, "l.duckdb")])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const [run] = await query(
      join(sub, "l.duckdb"),
      `SELECT status, data_facts->>'$.samples' AS samples, data_facts->>'$.truncated' AS truncated,
      (SELECT min(tokens) FROM steps) AS min_tokens FROM runs`
    )
    expect(run).toMatchObject({ status: "succeeded", samples: "3", truncated: "1" })
    expect(Number(run!.min_tokens)).toBeGreaterThan(0)
  }, 120_000)

  it("passes shell-looking config values to the trainer as data, never through a shell", async () => {
    const sub = tempDir("shell")
    const grid = tinyGrid(sub, [1])
    const pwned = join(sub, "PWNED")
    // a tokenizer file is found missing by the trainer (a `local:` model folder is refused before any trainer starts)
    const value = `file:/nonexistent; touch ${pwned} $(touch ${pwned}) \`touch ${pwned}\``
    const r = await cli(
      ["run", grid, "--no-tui", "--ledger", join(sub, "l.duckdb"), "--python", realPython, "--set", `base.tokenizer=${value}`],
      { NO_COLOR: "1" }
    )
    expect(r.exitCode, String(r.stderr)).toBe(3) // the run failed, as recorded below
    expect(existsSync(pwned)).toBe(false)
    const [run] = await query(
      join(sub, "l.duckdb"),
      `SELECT status, error_kind, error_message, c.config->>'$.tokenizer' AS model FROM runs JOIN cells c USING (cell_hash)`
    )
    expect(run!.model).toBe(value) // stored verbatim
    expect(run).toMatchObject({ status: "failed", error_kind: "bad_spec" })
    expect(String(run!.error_message)).toContain("/nonexistent; touch")
  }, 120_000)
})
