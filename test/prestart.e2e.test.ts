// Pre-start end to end (trainer/PROTOCOL.md §2a): the real CLI runs a 2-cell CPU grid with
// --prestart. While the first run's window steps, the second run's trainer exists, is stopped
// (/proc state T) and uses no CPU; the second run adopts it (one process per cell: its `started` reports the
// wait for `go`), and both runs succeed.
import { execa } from "execa"
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { findPython, PythonNotFound } from "../src/trainer/python.ts"

const root = resolve(import.meta.dirname, "..")
const python = findPython(null)

const jsonl = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>]
          } catch {
            return [] // a line being written
          }
        })
    : []

/** /proc/<pid>/stat: the state letter and user+system CPU ticks; null once gone. */
const procStat = (pid: number) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").at(-1)!.trim().split(" ")
    return { state: f[0]!, ticks: Number(f[11]) + Number(f[12]) }
  } catch {
    return null
  }
}

describe.skipIf(python instanceof PythonNotFound || process.platform !== "linux")("tunegrid run --prestart (real trainers, CPU)", () => {
  it("keeps the next cell's trainer stopped while the current one's window runs, then hands it over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tunegrid-prestart-"))
    const grid = join(dir, "grid.ts")
    writeFileSync(
      grid,
      `export default {
  name: "prestart",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false },
  seeds: [1, 2],
  measure: { warmup: "2 steps", window: "30 steps", ciTarget: null, maxDuration: "120s" }
}
`
    )
    const runs = join(dir, ".tunegrid", "runs")
    const child = execa(
      process.execPath,
      [join(root, "src/cli.ts"), "run", grid, "--no-tui", "--prestart", "--ledger", join(dir, "l.duckdb")],
      { cwd: root, reject: false, env: { NO_COLOR: "1" }, timeout: 300_000 }
    )
    let done = false
    const ended = child.then((r) => ((done = true), r))
    const seen: Array<{ state: string; ticks: number }> = []
    let firstDir: string | null = null
    while (!done) {
      await new Promise((r) => setTimeout(r, 100))
      // the first run with events is the first run: a pre-started trainer writes none before its `go`
      const dirs = existsSync(runs) ? readdirSync(runs).map((n) => join(runs, n)) : []
      firstDir ??= dirs.find((d) => jsonl(join(d, "trainer.jsonl")).length > 0) ?? null
      if (firstDir === null) continue
      const events = jsonl(join(firstDir, "trainer.jsonl"))
      if (!events.some((e) => e.event === "step" && e.phase === "window") || events.some((e) => e.event === "finished")) continue
      // the first run's processes.jsonl: its sampler, its trainer, then the next run's pre-started trainer
      const trainers = jsonl(join(firstDir, "processes.jsonl")).filter((c) => c.role === "trainer")
      if (trainers.length < 2) continue
      const stat = procStat(trainers.at(-1)!.pid as number)
      if (stat) seen.push(stat)
    }
    const result = await ended
    expect(result.exitCode, result.stdout + String(result.stderr)).toBe(0)
    expect(seen.length).toBeGreaterThan(3) // sampled through the first run's window
    expect(
      seen.every((s) => s.state === "T"),
      JSON.stringify(seen)
    ).toBe(true)
    expect(seen.at(-1)!.ticks).toBe(seen[0]!.ticks) // no CPU while stopped
    const second = readdirSync(runs)
      .map((n) => join(runs, n))
      .find((d) => d !== firstDir)!
    const started = jsonl(join(second, "trainer.jsonl")).find((e) => e.event === "started") as { timings: Record<string, number> }
    expect(Object.keys(started.timings).slice(0, 3)).toEqual(["spawn", "imports", "libraries"])
    expect(started.timings.wait).toBeGreaterThanOrEqual(0)
    expect(result.stdout).toMatch(/finished: 2 succeeded/)
  }, 300_000)
})
