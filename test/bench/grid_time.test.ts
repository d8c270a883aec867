// bench/grid_time.ts splits a run's wall time by the events' own times: written run folders with
// known times give known phases, gaps and window share.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { gridTimes } from "../../bench/grid_time.ts"

const folder = (root: string, run: string, t0: number, exit: boolean) => {
  const dir = join(root, run)
  mkdirSync(dir, { recursive: true })
  const ev = (e: object) => JSON.stringify(e)
  writeFileSync(join(dir, "sampler.jsonl"), [ev({ event: "sampler", t: t0 }), ev({ event: "sample", t: t0 + 1 })].join("\n") + "\n")
  const steps = [0, 1, 2, 3].map((i) =>
    ev({ event: "step", step: i, t: t0 + 13 + 2 * i, t_start: t0 + 11 + 2 * i, t_end: t0 + 13 + 2 * i, phase: i < 2 ? "warmup" : "window" })
  )
  writeFileSync(
    join(dir, "trainer.jsonl"),
    [
      ev({ event: "started", t: t0 + 10, cell_hash: `cell-${run}`, timings: { imports: 4, model: 3 } }),
      ...steps,
      ev({ event: "finished", reason: "window_complete", t: t0 + 20 })
    ].join("\n") + "\n"
  )
  if (exit) writeFileSync(join(dir, "exit.json"), JSON.stringify({ exit_code: 0, t_end: t0 + 21 }))
}

describe("bench/grid_time", () => {
  it("splits each run into start, first step, warm-up, window, tail and teardown, in the order the runs ran", () => {
    const root = mkdtempSync(join(tmpdir(), "tunegrid-gridtime-"))
    folder(root, "bbbbbbbb-2", 1030, false)
    folder(root, "aaaaaaaa-1", 1000, true)
    const [a, b] = gridTimes([root])
    expect(a).toMatchObject({
      run: "aaaaaaaa",
      start: 10,
      firstStep: 3,
      warmup: 2,
      window: 4,
      tail: 1,
      teardown: 1,
      status: "window_complete",
      timings: { imports: 4, model: 3 }
    })
    expect(a!.last - a!.first).toBe(21)
    // a live run has no exit.json: no teardown, and its last event ends it
    expect(b).toMatchObject({ run: "bbbbbbbb", teardown: null, first: 1030, last: 1050 })
  })
})
