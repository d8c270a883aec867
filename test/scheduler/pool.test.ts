// The local pool in-process (`run --slots N`): runs taken one at a time by each slot, at most N at
// once, each run once, its slot recorded; a failed run frees its slot; a quit stops every slot.
// The trainer is replayed (TrainerProcess.layerTest) on an in-memory ledger: no process starts.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunControl, type RunEvent } from "../../src/progress.ts"
import { cpuSlots, pickGpus } from "../../src/slots.ts"
import type { Recording } from "../../src/trainer/replay.ts"
import { grid, recording, replayed, rows, runReplayed } from "./replays.ts"

/** The most runs going at once, from the watchers' start and end events. */
const mostAtOnce = (events: ReadonlyArray<RunEvent>) => {
  let now = 0
  let most = 0
  for (const e of events) {
    if (e.type === "start") most = Math.max(most, ++now)
    if (e.type === "end") now -= 1
  }
  return most
}

describe("local pool", () => {
  it.live("runs each cell once, two at a time on two slots, and records each run's slot", () => {
    const { file } = grid([1, 2, 3, 4, 5])
    const calls: Array<string> = []
    const replay = (spec: { cell_hash: string }) => (calls.push(spec.cell_hash), { trainer: recording({ pauseMs: 20 }) })
    return Effect.gen(function* () {
      const events: Array<RunEvent> = []
      const counts = yield* runReplayed(file, events, { slots: cpuSlots(2) })
      assert.strictEqual(counts.succeeded, 5)
      assert.strictEqual(new Set(calls).size, 5)
      assert.strictEqual(calls.length, 5)
      assert.strictEqual(mostAtOnce(events), 2)
      const slots = yield* rows(
        `SELECT s.slot, count(*)::INTEGER AS n FROM run_slots s JOIN runs r USING (run_id) GROUP BY s.slot ORDER BY s.slot`
      )
      assert.deepStrictEqual(
        slots.map((r) => r.slot),
        ["cpu 1", "cpu 2"]
      )
      assert.strictEqual(
        slots.reduce((a, r) => a + (r.n as number), 0),
        5
      )
      const starts = events.filter((e) => e.type === "start")
      assert.isTrue(starts.every((e) => e.type === "start" && (e.slot === "cpu 1" || e.slot === "cpu 2")))
      // resume as without a pool
      const again = yield* runReplayed(file, [], { slots: cpuSlots(2) })
      assert.strictEqual(again["already done"], 5)
      assert.strictEqual(calls.length, 5)
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("a failed run frees its slot and the grid goes on", () => {
    const { file } = grid([1, 2, 3, 4])
    let n = 0
    const crash: Recording = {
      trainer: recording({ finish: false, pauseMs: 5 }).slice(0, 2),
      end: { exitCode: 1, signal: null },
      stderr: "Traceback\nboom"
    }
    const replay = (): Recording => (n++ === 0 ? crash : { trainer: recording({ pauseMs: 20 }) })
    return Effect.gen(function* () {
      const counts = yield* runReplayed(file, [], { slots: cpuSlots(2) })
      assert.strictEqual(counts.failed, 1)
      assert.strictEqual(counts.succeeded, 3)
      const [failed] = yield* rows(`SELECT error_kind, stderr_tail FROM runs WHERE status = 'failed'`)
      assert.strictEqual(failed!.error_kind, "crash")
      assert.match(String(failed!.stderr_tail), /boom/)
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("a quit stops the runs of every slot and starts no more", () => {
    const { file } = grid([1, 2, 3, 4, 5])
    const control = new RunControl()
    let n = 0
    const replay = (): Recording => (n++, { trainer: recording({ pauseMs: 30 }) })
    const watch = (e: RunEvent) => {
      if (e.type === "trainer" && e.event.event === "step" && e.event.step === 1 && e.position === "2/5") control.quit()
    }
    return Effect.gen(function* () {
      const events: Array<RunEvent> = []
      const counts = yield* runReplayed(file, events, { slots: cpuSlots(2), control, watch })
      assert.strictEqual(n, 2, "no trainer started after the quit")
      assert.strictEqual(counts.interrupted, 2)
      assert.strictEqual(counts.left, 3)
      assert.deepStrictEqual(yield* rows(`SELECT DISTINCT status FROM runs`), [{ status: "interrupted" }])
    }).pipe(Effect.provide(replayed(replay)))
  })
})

describe("--gpus", () => {
  const present = [
    { index: 0, uuid: "GPU-a" },
    { index: 1, uuid: "GPU-b" },
    { index: 3, uuid: "GPU-d" }
  ]
  it("picks the GPUs named, or all of them", () => {
    assert.deepStrictEqual(pickGpus("0,3", present), [present[0]!, present[2]!])
    assert.deepStrictEqual(pickGpus("all", present), present)
  })
  it("refuses a GPU that is not there, one named twice, and all without GPUs, saying why", () => {
    assert.match(String(pickGpus("0,2", present)), /"2" is not a GPU here; expected "all" or indices among 0, 1, 3/)
    assert.match(String(pickGpus("1,1", present)), /GPU 1 is named twice/)
    assert.match(String(pickGpus("all", [])), /no NVIDIA GPU found.*--slots N/)
  })
})
