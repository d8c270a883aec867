// Trainer faults, each provoked for real in one grid run on the CPU: OOM (CUDA's error raised
// inside the real trainer, and a real host allocation failure), NaN loss, a crash by exit code
// and by signal, garbage on stdout, and a sampler that dies mid-cell. Each fault's cell is
// recorded failed with its reason (or, for the sampler, succeeded with the gap marked) and the
// grid goes on to the next cell.
import { beforeAll, describe, expect, it } from "vitest"
import { join } from "node:path"
import { cli, fakePython, injected, noPython, query, tempDir, tinyGrid } from "./harness.ts"

const dir = tempDir("trainer-faults")
const ledger = join(dir, "faults.duckdb")
let out: Awaited<ReturnType<typeof cli>>
const run = async (seed: number) =>
  (await query(ledger, `SELECT r.*, c.seed AS cell_seed FROM runs r JOIN cells c USING (cell_hash) WHERE c.seed = ${seed}`))[0]!

describe.skipIf(noPython)("trainer faults in a real grid run", () => {
  beforeAll(async () => {
    const grid = tinyGrid(dir, [1, 2, 3, 4, 5, 6, 7])
    out = await cli(
      ["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython],
      injected(dir, {
        TUNEGRID_INJECT: "1:oom@2,2:alloc@1,3:nan@2,7:killsampler@1",
        TUNEGRID_FAKE: "4:exit,5:kill,6:garbage"
      })
    )
  }, 300_000)

  it("goes on after every failure and ends the grid normally", () => {
    expect(out.exitCode, String(out.stderr)).toBe(3) // ran to the end; runs failed (src/cli/exit.ts)
    expect(out.stdout).toMatch(/done: 1 succeeded, 6 failed/)
    expect(out.stdout).toMatch(/finished with 6 failed runs \(1 succeeded, 6 failed\) — exit 3/)
  })

  it("records a CUDA OOM as failed: oom at its step, with the memory at failure", async () => {
    const r = await run(1)
    expect(r).toMatchObject({ status: "failed", error_kind: "oom", error_step: 2 })
    expect(r.error_message).toMatch(/CUDA out of memory at step 2/)
    expect(Number(r.error_memory_mib)).toBeGreaterThan(0) // a CPU cell: the trainer's RSS
  })

  it("records a real host allocation failure as failed: oom, not a crash", async () => {
    const r = await run(2)
    expect(r).toMatchObject({ status: "failed", error_kind: "oom", error_step: 1 })
    expect(r.error_message).toMatch(/host \(CPU\) out of memory at step 1/)
    expect(r.error_detail).toMatch(/DefaultCPUAllocator/)
  })

  it("records a NaN loss as failed: nan_loss at the step it happened, steps before it kept", async () => {
    const r = await run(3)
    expect(r).toMatchObject({ status: "failed", error_kind: "nan_loss", error_step: 2 })
    const steps = await query(ledger, `SELECT step, loss FROM steps WHERE run_id = '${r.run_id}' ORDER BY step`)
    expect(steps.map((s) => s.step)).toEqual([0, 1])
    for (const s of steps) expect(Number.isFinite(s.loss)).toBe(true)
  })

  it("records a non-zero exit as failed: crash with the exit code and the last stderr lines", async () => {
    const r = await run(4)
    expect(r).toMatchObject({ status: "failed", error_kind: "crash", exit_code: 7 })
    expect(r.error_message).toMatch(/exited with code 7/)
    expect(r.stderr_tail).toMatch(/Segmentation fault in libfake.so\nfatal: giving up$/)
  })

  it("records death by a signal as failed: crash naming the signal", async () => {
    const r = await run(5)
    expect(r).toMatchObject({ status: "failed", error_kind: "crash", exit_signal: "SIGKILL" })
    expect(r.error_message).toMatch(/killed by SIGKILL/)
    expect(r.stderr_tail).toMatch(/about to be killed/)
  })

  it("records garbage on stdout as a protocol error naming the line, without waiting for the trainer", async () => {
    const r = await run(6)
    expect(r).toMatchObject({ status: "failed", error_kind: "protocol" })
    expect(r.error_message).toMatch(/trainer stdout line 1 is not a protocol event .*Loading checkpoint shards/)
    // the fake sleeps 30 s after the garbage: the runner must have killed it, not waited
    const secs = await query(ledger, `SELECT epoch(ended_at) - epoch(started_at) AS s FROM runs WHERE run_id = '${r.run_id}'`)
    expect(Number(secs[0]!.s)).toBeLessThan(25)
  })

  it("keeps a run whose sampler died, marking energy and device memory missing with the reason", async () => {
    const r = await run(7)
    expect(r.status).toBe("succeeded")
    expect(r.sampler_error).toMatch(/sampler was killed by SIGKILL before the trainer finished; energy and device memory are missing/)
    const [res] = await query(ledger, `SELECT tok_s, energy_j, vram_peak_mib FROM results WHERE run_id = '${r.run_id}'`)
    expect(Number(res!.tok_s)).toBeGreaterThan(0)
    expect(res).toMatchObject({ energy_j: null, vram_peak_mib: null })
    // the samples it did send are kept (append-only), but none count toward the results
    const [n] = await query(ledger, `SELECT count(*)::INT AS n FROM samples WHERE run_id = '${r.run_id}'`)
    expect(n!.n).toBeGreaterThan(0)
  })

  it("leaves the views consistent: one result per success, every failure listed with a reason", async () => {
    const [c] = await query(
      ledger,
      `SELECT
      (SELECT count(*) FROM results)::INT AS results, (SELECT count(*) FROM table1)::INT AS table1,
      (SELECT count(*) FROM failures)::INT AS failures, (SELECT count(*) FROM failures WHERE error_kind IS NULL OR error_message IS NULL)::INT AS unexplained,
      (SELECT count(*) FROM runs WHERE status = 'running')::INT AS running`
    )
    expect(c).toEqual({ results: 1, table1: 1, failures: 6, unexplained: 0, running: 0 })
  })
})
