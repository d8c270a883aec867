// The local pool's rules in-process (src/pool.ts), on the replayed trainer and an in-memory ledger:
// an exclusive cell runs alone, each slot runs the grid's sentinel around its own runs with drift
// judged among one slot's runs, and every event of a pooled run names its slot.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expandGrid } from "../../src/grid/expand.ts"
import type { GridDef } from "../../src/grid/schema.ts"
import type { RunEvent } from "../../src/progress.ts"
import { binding, cpuSlots, type Slot } from "../../src/slots.ts"
import { grid, recording, replayed, rows, runReplayed } from "./replays.ts"

/** A grid of labelled cells (batch sizes 1…), the one labelled "timing" exclusive. */
const labelled = (labels: Array<string>) => {
  const file = join(mkdtempSync(join(tmpdir(), "tunegrid-pool-")), "grid.ts")
  const cells = labels.map((label, i) => ({ label, batchSize: i + 1, ...(label === "timing" ? { exclusive: true } : {}) }))
  writeFileSync(
    file,
    `export default {
  name: "exclusive",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false },
  cells: ${JSON.stringify(cells)},
  measure: { warmup: "1 steps", window: "4 steps", maxDuration: "120s" }
}
`
  )
  return file
}

/** Which runs were going whenever a run started: position → the positions running at its start. */
const runningAtStart = (events: ReadonlyArray<RunEvent>) => {
  const going = new Set<string>()
  const seen = new Map<string, Array<string>>()
  for (const e of events) {
    if (e.type === "start") {
      seen.set(e.position, [...going])
      going.add(e.position)
    }
    if (e.type === "end") going.delete(e.position)
  }
  return seen
}

describe("exclusive cells in a pool", () => {
  it.live("an exclusive cell waits for the other slots to empty and no run starts beside it; the others share", () => {
    const file = labelled(["a", "b", "timing", "d", "e"])
    const replay = () => ({ trainer: recording({ pauseMs: 15 }) })
    return Effect.gen(function* () {
      const events: Array<RunEvent> = []
      const counts = yield* runReplayed(file, events, { slots: cpuSlots(3) })
      assert.strictEqual(counts.succeeded, 5)
      const at = runningAtStart(events)
      assert.deepStrictEqual(at.get("3/5"), [], "the exclusive run started with no other run going")
      for (const other of ["1/5", "2/5", "4/5", "5/5"])
        assert.notInclude(at.get(other)!, "3/5", `${other} started while the exclusive run went`)
      // the shared ones did run side by side (either may start first): a with b, d with e
      const overlapped = (p: string, q: string) => at.get(p)!.includes(q) || at.get(q)!.includes(p)
      assert.isTrue(overlapped("1/5", "2/5") && overlapped("4/5", "5/5"))
    }).pipe(Effect.provide(replayed(replay)))
  })

  it("exclusive is not part of the cell: the same configuration, the same hash input", () => {
    const def = (exclusive: boolean) =>
      ({ name: "x", cells: [{ label: "t", batchSize: 2, ...(exclusive ? { exclusive } : {}) }] }) as unknown as GridDef
    const [plain] = expandGrid(def(false)).expansion.cells
    const [alone] = expandGrid(def(true)).expansion.cells
    assert.deepStrictEqual(alone!.config, plain!.config)
    assert.strictEqual(alone!.exclusive, true)
    assert.isUndefined(plain!.exclusive)
  })
})

describe("the sentinel in a pool", () => {
  it.live("each slot runs it before, after every k of its runs and at its end; drift is judged per slot", () => {
    const { file } = grid([1, 2, 3, 4], { sentinel: { every: 2 } })
    const where = new Map<string, { slot: string; position: string }>()
    let slowSentinels = 0
    // the second sentinel on cpu 2 runs at half speed: the runs it closes drift, those on cpu 1 do not
    const replay = (spec: { run_id: string }) => {
      const w = where.get(spec.run_id)!
      const slow = w.slot === "cpu 2" && w.position.startsWith("sentinel") && ++slowSentinels === 2
      return { trainer: recording({ pauseMs: 10, seconds: slow ? 0.2 : 0.1 }) }
    }
    const watch = (e: RunEvent) => {
      if (e.type === "start") where.set(e.runId, { slot: e.slot!, position: e.position })
    }
    return Effect.gen(function* () {
      const events: Array<RunEvent> = []
      const counts = yield* runReplayed(file, events, { slots: cpuSlots(2), watch })
      assert.strictEqual(counts.succeeded, 8, "4 runs and 2 sentinels on each slot")
      const plan = events[0]
      assert.isTrue(plan?.type === "plan" && plan.info.runs === 4 && plan.info.slots?.join() === "cpu 1,cpu 2")
      const runs = yield* rows(`SELECT s.slot, r.sentinel, r.repeat, x.sentinel_drift AS drift FROM runs r JOIN run_slots s USING (run_id)
        JOIN results x USING (run_id) ORDER BY r.started_at`)
      for (const slot of ["cpu 1", "cpu 2"]) {
        const own = runs.filter((r) => r.slot === slot).map((r) => (r.sentinel === null ? "run" : "S"))
        assert.deepStrictEqual(own, ["S", "run", "run", "S"], slot)
      }
      const sentinels = runs.filter((r) => r.sentinel !== null)
      assert.deepStrictEqual(sentinels.map((r) => r.sentinel).sort(), [0, 1, 2, 3], "occurrences are numbered across slots")
      assert.isTrue(
        sentinels.every((r) => r.repeat === 1 + (r.sentinel as number)),
        "after the grid's one repeat"
      )
      assert.deepStrictEqual(
        runs
          .filter((r) => r.sentinel === null)
          .map((r) => [r.slot, r.drift])
          .sort(),
        [
          ["cpu 1", false],
          ["cpu 1", false],
          ["cpu 2", true],
          ["cpu 2", true]
        ]
      )
      // each sentinel was announced as a row before it started
      for (const s of events.filter((e) => e.type === "start" && e.position.startsWith("sentinel"))) {
        const added = events.findIndex((e) => e.type === "added" && e.row.position === (s as { position: string }).position)
        assert.isTrue(added >= 0 && added < events.indexOf(s))
      }
      // nothing left: no sentinel runs either
      const again = yield* runReplayed(file, [], { slots: cpuSlots(2) })
      assert.deepStrictEqual(again, { succeeded: 0, failed: 0, skipped: 0, "already done": 4, interrupted: 0 })
    }).pipe(Effect.provide(replayed(replay)))
  })
})

describe("a GPU slot", () => {
  const gpu = (index: number, uuid: string): Slot => ({ name: `gpu ${index}`, gpu: { index, uuid } })

  it("binds the trainer to its GPU by UUID and the sampler by index; a CPU slot binds nothing", () => {
    assert.deepStrictEqual(binding(gpu(3, "GPU-d")), { trainerEnv: { CUDA_VISIBLE_DEVICES: "GPU-d" }, samplerGpu: 3 })
    assert.deepStrictEqual(binding(cpuSlots(1)[0]), {})
    assert.deepStrictEqual(binding(undefined), {})
  })

  it.live("records each run's GPU and tags its events with the GPU's index", () => {
    const { file } = grid([1, 2, 3])
    const replay = () => ({ trainer: recording({ pauseMs: 5 }) })
    return Effect.gen(function* () {
      const events: Array<RunEvent> = []
      yield* runReplayed(file, events, { slots: [gpu(1, "GPU-b"), gpu(3, "GPU-d")] })
      const slots = yield* rows(`SELECT DISTINCT slot, gpu_index, gpu_uuid FROM run_slots ORDER BY slot`)
      assert.deepStrictEqual(slots, [
        { slot: "gpu 1", gpu_index: 1, gpu_uuid: "GPU-b" },
        { slot: "gpu 3", gpu_index: 3, gpu_uuid: "GPU-d" }
      ])
      const ends = events.filter((e) => e.type === "end") as Array<{ slot?: string; gpu?: number | null }>
      assert.isTrue(ends.length === 3 && ends.every((e) => `gpu ${e.gpu}` === e.slot))
    }).pipe(Effect.provide(replayed(replay)))
  })
})

describe("a pooled run's events", () => {
  it.live("each names its slot and GPU; a run outside a pool has neither", () => {
    const { file } = grid([1, 2, 3])
    const replay = () => ({ trainer: recording({ pauseMs: 5 }) })
    const ofRuns = (events: ReadonlyArray<RunEvent>) => events.filter((e) => e.type === "start" || e.type === "trainer" || e.type === "end")
    return Effect.gen(function* () {
      const pooled: Array<RunEvent> = []
      yield* runReplayed(file, pooled, { slots: cpuSlots(2) })
      const tagged = ofRuns(pooled) as Array<{ slot?: string; gpu?: number | null; position: string }>
      assert.isAbove(tagged.length, 12)
      for (const e of tagged) assert.isTrue((e.slot === "cpu 1" || e.slot === "cpu 2") && e.gpu === null, JSON.stringify(e))
      // a run's events all name the slot its start named
      const slotOf = new Map(tagged.filter((e) => (e as RunEvent).type === "start").map((e) => [e.position, e.slot]))
      for (const e of tagged) assert.strictEqual(e.slot, slotOf.get(e.position))
      const plain: Array<RunEvent> = []
      yield* runReplayed(grid([1]).file, plain)
      for (const e of ofRuns(plain)) assert.isFalse("slot" in e || "gpu" in e)
    }).pipe(Effect.provide(replayed(replay)))
  })
})
