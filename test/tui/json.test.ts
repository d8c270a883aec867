// `tunegrid run --json` on the real trainer (one demo cell on the CPU): stdout is nothing but
// JSON lines, one per event, from the plan through the trainer's and sampler's events to the summary.
import { execa } from "execa"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../src/progress.ts"
import { findPython, PythonNotFound } from "../../src/trainer/python.ts"

const root = resolve(import.meta.dirname, "../..")
const python = findPython(null)

describe.skipIf(python instanceof PythonNotFound)("tunegrid run --json (real trainer, CPU)", () => {
  it("streams every event as one JSON line and prints nothing else on stdout", async () => {
    const ledger = join(mkdtempSync(join(tmpdir(), "tunegrid-json-")), "j.duckdb")
    const r = await execa(
      process.execPath,
      [
        "src/cli.ts",
        "run",
        "experiments/demo.ts",
        "--json",
        "--ledger",
        ledger,
        "--set",
        "axes.batchSize=[1]",
        "--set",
        "axes.learningRate=[0.003]",
        "--set",
        "measure.warmup=2 steps",
        "--set",
        "measure.window=4 steps"
      ],
      { cwd: root, reject: false, timeout: 180_000 }
    )
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const events = String(r.stdout)
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as RunEvent)
    const kinds = events.map((e) => (e.type === "trainer" ? `trainer:${e.event.event}` : e.type))
    expect(kinds[0]).toBe("plan")
    expect(kinds[1]).toBe("start")
    expect(kinds.filter((k) => k === "trainer:step")).toHaveLength(6)
    expect(kinds).toContain("sampler")
    expect(kinds.slice(-2)).toEqual(["end", "summary"])
    const end = events.at(-2) as Extract<RunEvent, { type: "end" }>
    expect(end.end.status).toBe("succeeded")
    expect(end.figures?.tok_s).toBeGreaterThan(0)
    expect(events.at(-1)).toMatchObject({ counts: { succeeded: 1 } })
  }, 180_000)
})
