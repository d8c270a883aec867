// VRAM budgets end to end on the CPU: the real CLI, trainer and ledger, with PyTorch's allocator
// replaced (in tests only) by test/fixtures/fake-allocator, whose accounting is the trainer's own
// tensors. An over-budget cell fails `oom` with the budget in its message and the grid goes on;
// `tunegrid fit` probes, finds the frontier, measures there, reports it, and resumes.
import { execa } from "execa"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, noPython, query, realPython, root, tempDir } from "../faults/harness.ts"

// tiny preset, 64-token samples: the probes' torch peaks are ~149 MiB at batch 1, 261 at 2, 373 at
// 3, 484 at 4 (test/fit/bisect.test.ts); the cap is usable − context
const grid = (dir: string, name: string, usableMib: number, cells: string) => {
  const file = join(dir, `${name}.ts`)
  writeFileSync(
    file,
    `export default {
  name: ${JSON.stringify(name)},
  base: { model: "preset:tiny", device: "auto", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false,
          vramBudget: { usable: "${usableMib}MiB", context: "10MiB" } },
  cells: ${cells},
  seeds: [42],
  measure: { warmup: "1 steps", window: "3 steps", ciTarget: null, maxDuration: "120s" }
}
`
  )
  return file
}

const env = { PYTHONPATH: join(root, "test/fixtures/fake-allocator"), CUDA_VISIBLE_DEVICES: "" }
const args = (ledger: string) => ["--ledger", ledger, "--python", realPython, "--sampler", "none"]

describe.skipIf(noPython)("VRAM budgets on the CPU (test allocator)", () => {
  it("records an over-budget cell as oom with its step, memory and the budget in the message, and the grid goes on", async () => {
    const dir = tempDir("budget-oom")
    const ledger = join(dir, "l.duckdb")
    const file = grid(dir, "budget", 310, `[{ label: "big", batchSize: 4 }, { label: "small", batchSize: 1 }]`)
    const r = await cli(["run", file, "--no-tui", "--allow-failures", ...args(ledger)], env, { timeout: 600_000 })
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const runs = await query(
      ledger,
      `SELECT label, status, error_kind, error_message, error_step, error_memory_mib FROM runs JOIN cells USING (cell_hash) ORDER BY started_at`
    )
    expect(runs.map((x) => [x.label, x.status, x.error_kind])).toEqual([
      ["big", "failed", "oom"],
      ["small", "succeeded", null]
    ])
    expect(runs[0]!.error_message).toMatch(
      /^CUDA out of memory at step 0 under the VRAM budget 310MiB \(context 10MiB\) \(PyTorch's allocator held to 300 MiB = 310 MiB usable − 10 MiB CUDA context allowance\)/
    )
    expect(runs[0]!.error_step).toBe(0)
    expect(runs[0]!.error_memory_mib as number).toBeLessThanOrEqual(300)
    const budgets = await query(
      ledger,
      `SELECT cell, status, budget, cap_mib, torch_alloc_mib, fits_card, held FROM budget_runs ORDER BY cell`
    )
    expect(budgets[0]).toMatchObject({ cell: "big", status: "failed" })
    expect(budgets[1]).toMatchObject({
      cell: "small",
      status: "succeeded",
      budget: "310MiB (context 10MiB)",
      cap_mib: 300,
      fits_card: true
    })
    expect(budgets[1]!.torch_alloc_mib as number).toBeGreaterThan(100)
    expect(budgets[1]!.torch_alloc_mib as number).toBeLessThan(300)
    expect(budgets[1]!.held).toMatch(/^held to the cap: PyTorch's allocator/)
  }, 900_000)

  it("fit: probes under the budget, records each, finds the frontier, measures there, reports it, and resumes without probing again", async () => {
    const dir = tempDir("fit")
    const ledger = join(dir, "l.duckdb")
    const file = grid(dir, "fit", 430, `[{ label: "tiny", batchSize: 2 }]`) // cap 420, 5% headroom: 399 MiB
    const first = await cli(["fit", file, ...args(ledger)], env, { timeout: 900_000 })
    expect(first.exitCode, String(first.stderr)).toBe(0)
    expect(first.stdout).toMatch(/probe batchSize 2: fits: torch peak \d+ MiB allocated/)
    expect(first.stdout).toMatch(/probe batchSize 4: out of memory under the 420 MiB cap/)
    expect(first.stdout).toMatch(/largest batchSize that fits on 430MiB \(context 10MiB\): 3 \(3 fits and 4 does not; 3 probes\)/)
    expect(first.stdout).toMatch(/Largest that fits on 430MiB \(context 10MiB\): per configuration/)
    const probes = await query(ledger, `SELECT value, outcome, torch_peak_allocated_mib AS peak FROM fit_probes ORDER BY started_at`)
    expect(probes.map((p) => [p.value, p.outcome])).toEqual([
      [2, "completed"],
      [4, "oom"],
      [3, "completed"]
    ])
    expect(probes[2]!.peak as number).toBeGreaterThan(probes[0]!.peak as number)
    const [frontier] = await query(ledger, `SELECT cell, field, frontier, probes, tok_s, run FROM fit_frontier`)
    expect(frontier).toMatchObject({ cell: "tiny", field: "batchSize", frontier: 3, probes: 3 })
    expect(frontier!.tok_s as number).toBeGreaterThan(0)
    const measured = await query(
      ledger,
      `SELECT c.label, c.config->>'$.batchSize' AS b, r.status FROM runs r JOIN cells c USING (cell_hash)`
    )
    expect(measured).toEqual([{ label: "tiny @ batchSize 3 on 430MiB (context 10MiB)", b: "3", status: "succeeded" }])

    const again = await cli(["fit", file, ...args(ledger)], env, { timeout: 300_000 })
    expect(again.exitCode, String(again.stderr)).toBe(0)
    expect(again.stdout).toMatch(/already decided on 430MiB \(context 10MiB\): batchSize 3/)
    expect(again.stdout).toMatch(/already measured/)
    expect(await query(ledger, `SELECT count(*)::INT AS probes, (SELECT count(*)::INT FROM runs) AS runs FROM fit_probes`)).toEqual([
      { probes: 3, runs: 1 }
    ])
  }, 1_500_000)

  it("fit where the runner is not: the plan's searches run by python -m tunegrid_trainer.fit, ingested, are the searches tunegrid fit resumes", async () => {
    const dir = tempDir("fit-py")
    const ledger = join(dir, "l.duckdb")
    const file = grid(dir, "fitpy", 430, `[{ label: "tiny", batchSize: 2 }]`)
    const plan = await cli(["fit", file, "--plan", join(dir, "plan"), "--no-measure"], env)
    expect(plan.exitCode, String(plan.stderr)).toBe(0)
    expect(plan.stdout).toMatch(/wrote 1 fit searches to .*plan\/fit\.json/)
    const py = await execa(
      realPython,
      ["-m", "tunegrid_trainer.fit", join(dir, "plan"), "--out", join(dir, "runs"), "--sampler-mode", "none", "--no-measure"],
      {
        cwd: join(root, "trainer"),
        env: { ...env, PYTHONPATH: `${env.PYTHONPATH}:${join(root, "trainer")}` },
        reject: false,
        timeout: 900_000
      }
    )
    expect(py.exitCode, String(py.stderr)).toBe(0)
    expect(py.stderr).toMatch(/largest batchSize that fits on 430MiB \(context 10MiB\): 3 \(3 fits and 4 does not\)/)
    const ingest = await cli(["ingest", join(dir, "runs"), "--ledger", ledger], env)
    expect(ingest.stdout).toMatch(/ingested a fit: 3 probes, 1 frontiers, 0 measured runs/)
    expect(await query(ledger, `SELECT value, outcome FROM fit_probes ORDER BY started_at`)).toEqual([
      { value: 2, outcome: "completed" },
      { value: 4, outcome: "oom" },
      { value: 3, outcome: "completed" }
    ])
    // the live command finds the same search decided (same hashes, same environment) and measures the frontier
    const live = await cli(["fit", file, ...args(ledger)], env, { timeout: 600_000 })
    expect(live.exitCode, String(live.stderr)).toBe(0)
    expect(live.stdout).toMatch(/already decided on 430MiB \(context 10MiB\): batchSize 3/)
    expect(live.stdout).not.toMatch(/probe batchSize/)
    expect(await query(ledger, `SELECT frontier, probes, tok_s > 0 AS measured FROM fit_frontier`)).toEqual([
      { frontier: 3, probes: 3, measured: true }
    ])
  }, 1_500_000)
})
