// The Student t 0.975 quantiles written out as tables: the stop rule's (tunegrid_trainer/stop.py
// T975, checked against scipy in trainer/tests/test_stop.py), the stored figures' batch-means CI
// (ledger/results.sql) and the across-runs intervals (ledger/views.sql t95). TypeScript keeps no
// table of its own: the live CI comes from the trainer (`step.ci_half_rel`). The tables must agree,
// or the CI the trainer stops on is not the CI the ledger stores.
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, trainerDir } from "../src/cells.ts"
import { findPython, PythonNotFound, pythonEnv } from "../src/trainer/python.ts"

const python = findPython(null)

/** The numbers of the first SQL list literal after `marker` in a ledger file. */
const sqlTable = (file: string, marker: string): Array<number> => {
  const text = readFileSync(resolve(repoRoot, "ledger", file), "utf8")
  const from = text.indexOf(marker)
  expect(from, `${marker} in ledger/${file}`).toBeGreaterThanOrEqual(0)
  const list = text.slice(from).match(/\[([\d.,\s]+)\]/)
  return list![1]!.split(",").map((x) => Number(x.trim()))
}

let tables: { t975: Array<number>; scipy: Array<number> | null } | null = null
/** Python's table and scipy's quantiles (null without scipy), from one Python process. */
const pythonTables = (): { t975: Array<number>; scipy: Array<number> | null } => (tables ??= readPythonTables())
const readPythonTables = (): { t975: Array<number>; scipy: Array<number> | null } => {
  const py = python as { python: string }
  const script = `
import json
from tunegrid_trainer.stop import T975
try:
    from scipy.stats import t
    exact = [float(t.ppf(0.975, df)) for df in range(1, 31)]
except ImportError:
    exact = None
print(json.dumps({"t975": list(T975), "scipy": exact}))
`
  return JSON.parse(execFileSync(py.python, ["-c", script], { cwd: trainerDir, env: { ...process.env, ...pythonEnv() } }).toString())
}

describe("t quantile tables", { timeout: 60_000 }, () => {
  it.skipIf(python instanceof PythonNotFound)("the stored figures' CI uses the stop rule's t table, value for value", () => {
    expect(sqlTable("results.sql", "CASE WHEN b.n >= 2")).toEqual(pythonTables().t975)
  })

  it.skipIf(python instanceof PythonNotFound)("the across-runs t95 table agrees with the stop rule's to its 3 decimals", () => {
    const views = sqlTable("views.sql", "CREATE OR REPLACE MACRO t95")
    expect(views).toHaveLength(30)
    pythonTables().t975.forEach((t, i) => expect(Math.abs(views[i]! - t), `df ${i + 1}`).toBeLessThanOrEqual(0.0005))
  })

  it.skipIf(python instanceof PythonNotFound)("the across-runs t95 table is scipy's to its 3 decimals (skipped without scipy)", (ctx) => {
    const { scipy } = pythonTables()
    if (scipy === null) return ctx.skip("scipy is not in the trainer's environment")
    const views = sqlTable("views.sql", "CREATE OR REPLACE MACRO t95")
    scipy.forEach((t, i) => expect(Math.abs(views[i]! - t), `df ${i + 1}`).toBeLessThanOrEqual(0.0005))
  })
})
