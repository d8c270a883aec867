// The real CLI in a real terminal (tmux): `tunegrid run experiments/demo.ts` with the real trainer
// on the CPU draws its rows as they fill in; `s` skips a cell (recorded as skipped), `q` stops
// (the current run recorded as interrupted); a second run resumes with what is left.
import { DuckDBInstance } from "@duckdb/node-api"
import { execa, execaSync } from "execa"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { findPython, PythonNotFound } from "../../src/trainer/python.ts"

const root = resolve(import.meta.dirname, "../..")
const hasTmux = execaSync("sh", ["-c", "command -v tmux"], { reject: false }).exitCode === 0
const python = findPython(null)
const dir = mkdtempSync(join(tmpdir(), "tunegrid-tui-"))
const ledger = join(dir, "tui.duckdb")
const socket = `tunegrid-test-${process.pid}`
const tmux = (...args: Array<string>) => execa("tmux", ["-u", "-L", socket, ...args], { reject: false })

/** The CLI in a detached 160×50 terminal; CI variables removed so the TUI is used. */
const launch = async (session: string) => {
  const cli = [
    process.execPath,
    "src/cli.ts",
    "run",
    "experiments/demo.ts",
    "--ledger",
    ledger,
    "--set",
    "'measure.warmup=2 steps'",
    "--set",
    "'measure.window=4 steps'"
  ].join(" ")
  const r = await tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "160",
    "-y",
    "50",
    "-c",
    root,
    `env -u CI -u CONTINUOUS_INTEGRATION ${cli}; echo "EXIT=$?"; sleep 600`
  )
  expect(r.exitCode, String(r.stderr)).toBe(0)
}
const screen = async (session: string) => String((await tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", session)).stdout)

const waitFor = async (session: string, pattern: RegExp, timeoutMs = 150_000) => {
  const until = Date.now() + timeoutMs
  let text = ""
  while (Date.now() < until) {
    text = await screen(session)
    if (pattern.test(text)) return text
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${pattern} on screen:\n${text}`)
}

const statuses = async () => {
  const db = await DuckDBInstance.create(ledger, { access_mode: "READ_ONLY" })
  const conn = await db.connect()
  try {
    const rows = (await conn.runAndReadAll(`SELECT status, count(*)::INT AS n FROM runs GROUP BY status ORDER BY status`)).getRowObjectsJS()
    return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]))
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

const running = (position: string) => new RegExp(`${position} \\w{12} (◌ starting|◔ warming up|◉ measuring)`)

describe.skipIf(!hasTmux || python instanceof PythonNotFound)("the TUI in a terminal (tmux, real CLI and trainer)", () => {
  afterAll(async () => {
    await tmux("kill-server")
  })

  it("shows rows filling in; s skips a cell, q stops, and both are recorded in the ledger", async () => {
    await launch("first")
    const early = await waitFor("first", /4\/4 \w{12} · queued/)
    expect(early).toMatch(/tunegrid · demo {2}4 cells, 4 runs, 4 to run/)
    expect(early).toMatch(/#\s+cell\s+status\s+learningRate\s+batchSize\s+tok\/s ±95% CI\s+T10k s\s+VRAM MiB\s+J\/token/)
    await waitFor("first", /phase {4}(warming up|measuring)/) // the current-cell panel follows the trainer
    await waitFor("first", /1\/4 \w{12} (?:✔ succeeded|~ unsteady)\s+0\.003\s+1\s+\d+\.\d(?: ±\d+\.\d%)?\s+\d+\.\d\d/)
    // the status line under the panel (waited for: a capture can land mid-redraw)
    await waitFor("first", /done 1 · resumed 0 · skipped 0 · failed 0 · left 3 · elapsed \d+:\d\d · ETA \d+:\d\d/)

    await waitFor("first", running("2/4"))
    await tmux("send-keys", "-t", "first", "s")
    await waitFor("first", /2\/4 \w{12} ↷ skipped/)

    await waitFor("first", running("3/4"))
    await tmux("send-keys", "-t", "first", "q")
    const last = await waitFor("first", /EXIT=\d+/)
    expect(last).toMatch(/3\/4 \w{12} ■ interrupted/)
    expect(last).toContain("stopped: 1 succeeded, 1 skipped, 1 interrupted, 1 left; run the same command again to resume")
    expect(last).toMatch(/grid demo · 3 cells/) // the report of this grid's cells
    expect(last).toContain("stopped before the end")
    expect(last).toContain("EXIT=130") // stopped with runs left (src/cli/exit.ts)
    expect(await statuses()).toEqual({ interrupted: 1, skipped: 1, succeeded: 1 })
  }, 420_000)

  it("a second run resumes: the succeeded cell is done before, the other three run", async () => {
    await launch("second")
    const resumed = await waitFor("second", /1\/4 \w{12} ↺ done before\s+0\.003\s+1\s+\d+\.\d(?: ±\d+\.\d%)?\s+\d+\.\d\d/) // with what it measured then
    expect(resumed).toMatch(/4 cells, 4 runs, 3 to run/)
    const last = await waitFor("second", /EXIT=\d+/, 300_000)
    // succeeded; "unsteady" when a shared CPU's noise puts its CI beyond the ±25% sanity bound
    expect(last).toMatch(/2\/4 \w{12} (✔ succeeded|~ unsteady)/)
    expect(last).toMatch(/4\/4 \w{12} (✔ succeeded|~ unsteady)/)
    expect(last).toContain("finished: 3 succeeded, 1 already done")
    expect(last).toContain("EXIT=0")
    expect(await statuses()).toEqual({ interrupted: 1, skipped: 1, succeeded: 4 })
  }, 420_000)
})
