// Shared by the fault tests: the real CLI as a child process, a read-only look at a real DuckDB
// ledger, tiny CPU grids, and the test-only injection directory (test/fixtures/inject) that
// patches the real trainer through sitecustomize or stands in for it through --python.
import { DuckDBInstance } from "@duckdb/node-api"
import { execa, type Options } from "execa"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { running } from "../../src/proc.ts"
import { findPython, PythonNotFound } from "../../src/trainer/python.ts"

export const root = resolve(import.meta.dirname, "../..")
export const injectDir = join(root, "test/fixtures/inject")
const found = findPython(null)
export const noPython = found instanceof PythonNotFound
export const realPython = found instanceof PythonNotFound ? "python3" : found.python
export const fakePython = join(injectDir, "fake-python")
/** Env for a CLI run whose runner SIGKILLs itself right after the n-th ledger statement matching
 * `pattern` (test/fixtures/inject/runner-hook.ts). */
export const killRunnerAfter = (pattern: string, nth = 1): Record<string, string> => ({
  NODE_OPTIONS: `--import ${join(injectDir, "runner-hook.ts")}`,
  TUNEGRID_RUNNER_KILL: `${pattern}@${nth}`
})

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `tunegrid-${name}-`))

/** Env for a CLI run whose Python children load the injection (sitecustomize) under `env`'s plan. */
export const injected = (dir: string, env: Record<string, string> = {}): Record<string, string> => ({
  NO_COLOR: "1",
  PYTHONPATH: injectDir,
  TUNEGRID_INJECT_DIR: dir,
  TUNEGRID_REAL_PYTHON: realPython,
  ...env
})

export const cli = (args: Array<string>, env: Record<string, string> = {}, options: Options = {}) =>
  execa(process.execPath, [join(root, "src/cli.ts"), ...args], {
    cwd: root,
    reject: false,
    env: { NO_COLOR: "1", ...env },
    timeout: 300_000,
    ...options
  })

export const query = async (ledger: string, sql: string) => {
  const db = await DuckDBInstance.create(ledger, { access_mode: "READ_ONLY" })
  const conn = await db.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

/** A CPU grid of the tiny preset, one cell per seed (the injection picks cells by seed). */
export const tinyGrid = (dir: string, seeds: Array<number>, window = 3, name = "faults", fileName = `${name}.ts`) => {
  const file = join(dir, fileName)
  writeFileSync(
    file,
    `export default {
  name: ${JSON.stringify(name)},
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false },
  seeds: ${JSON.stringify(seeds)},
  measure: { warmup: "1 steps", window: "${window} steps", maxDuration: "120s" }
}
`
  )
  return file
}

export const waitFor = async (what: string, check: () => boolean, timeoutMs = 120_000) => {
  const until = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Whether a process id is alive; a zombie (dead, waiting for a parent that may never collect it:
 * an orphan's new parent here is the VM's init) is not. */
export const alive = running
