// The scheduler in-process: resume, interruption, stall, sentinels and stop requests, with the
// trainer replayed from recordings (TrainerProcess.layerTest) and an in-memory ledger. No process
// is started, so each test takes well under a second of its own.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunControl, type RunEvent } from "../../src/progress.ts"
import { always, grid, recordedSampler, recordedTrainer, recording, replayed, rows, runReplayed } from "./replays.ts"

const statuses = (sql = `SELECT status FROM runs ORDER BY started_at`) => Effect.map(rows(sql), (r) => r.map((x) => String(x.status)))

describe("scheduler", () => {
  it.live("runs every planned run once and, run again, skips those that already succeeded", () => {
    const { file } = grid([1, 2])
    const { calls, replay } = always({ trainer: recordedTrainer, sampler: recordedSampler })
    return Effect.gen(function* () {
      const first: Array<RunEvent> = []
      const counts = yield* runReplayed(file, first)
      assert.strictEqual(counts.succeeded, 2)
      assert.strictEqual(calls.length, 2)
      assert.notStrictEqual(calls[0], calls[1])
      assert.deepStrictEqual(yield* statuses(), ["succeeded", "succeeded"])
      // the recorded steps reached the ledger and its results
      const [steps] = yield* rows(`SELECT count(*)::INTEGER AS n FROM steps`)
      assert.strictEqual(steps!.n, 10)
      const ends = first.filter((e) => e.type === "end")
      assert.isTrue(ends.every((e) => e.type === "end" && e.figures !== null && typeof e.figures.tok_s === "number"))

      const second: Array<RunEvent> = []
      const again = yield* runReplayed(file, second)
      assert.strictEqual(again.succeeded, 0)
      assert.strictEqual(again["already done"], 2)
      assert.strictEqual(calls.length, 2, "no trainer starts on resume")
      const resumed = second.filter((e) => e.type === "resumed")
      assert.strictEqual(resumed.length, 2)
      assert.isTrue(resumed.every((e) => e.type === "resumed" && typeof e.figures?.tok_s === "number"))

      const fresh = yield* runReplayed(file, [], { fresh: true })
      assert.strictEqual(fresh.succeeded, 2)
      assert.strictEqual(calls.length, 4)
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("marks a run a killed runner left running interrupted, and runs its cell again", () => {
    const { file } = grid([1, 2])
    const { calls, replay } = always({ trainer: recordedTrainer, sampler: recordedSampler })
    return Effect.gen(function* () {
      yield* runReplayed(file, [])
      // what a SIGKILLed runner leaves: the second run `running`, without an end or results
      const [second] = yield* rows(`SELECT run_id, cell_hash FROM runs ORDER BY started_at DESC LIMIT 1`)
      const id = String(second!.run_id)
      yield* rows(`DELETE FROM results WHERE run_id = '${id}'`)
      yield* rows(`UPDATE runs SET status = 'running', ended_at = NULL, finish_reason = NULL WHERE run_id = '${id}'`)

      const events: Array<RunEvent> = []
      const counts = yield* runReplayed(file, events)
      const summaries = events.filter((e) => e.type === "summary").map((e) => (e.type === "summary" ? e.counts : {}))
      assert.deepStrictEqual(summaries[0], { "orphaned runs marked interrupted": 1 })
      const [orphan] = yield* rows(`SELECT status, error_message FROM runs WHERE run_id = '${id}'`)
      assert.strictEqual(orphan!.status, "interrupted")
      assert.match(String(orphan!.error_message), /found running when the ledger was next opened/)
      assert.strictEqual(counts.succeeded, 1)
      assert.strictEqual(counts["already done"], 1)
      assert.strictEqual(calls.at(-1), String(second!.cell_hash), "the interrupted cell ran again")
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("kills a trainer that stops emitting after the stall timeout, records it stalled and goes on", () => {
    const { file } = grid([1, 2])
    let n = 0
    const replay = () =>
      n++ === 0 ? { trainer: recording({ finish: false }).slice(0, 3), end: "hang" as const } : { trainer: recording() }
    return Effect.gen(function* () {
      const startedAt = Date.now()
      const counts = yield* runReplayed(file, [], { stallTimeoutMs: 400 })
      assert.isBelow(Date.now() - startedAt, 5000)
      assert.strictEqual(counts.failed, 1)
      assert.strictEqual(counts.succeeded, 1)
      const [stalled] = yield* rows(`SELECT status, error_kind, error_message, exit_signal FROM runs ORDER BY started_at LIMIT 1`)
      assert.strictEqual(stalled!.error_kind, "stalled")
      assert.match(String(stalled!.error_message), /no event for 0\.4 s \(stall timeout/)
      assert.strictEqual(stalled!.exit_signal, "SIGTERM")
      const [steps] = yield* rows(`SELECT count(*)::INTEGER AS n FROM steps s JOIN runs r USING (run_id) WHERE r.error_kind = 'stalled'`)
      assert.strictEqual(steps!.n, 2, "the steps before the stall are kept")
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("runs the sentinel cell around the grid's runs, flags drift between sentinels, and resumes them too", () => {
    const { file } = grid([1, 2], { sentinel: { every: 1 } })
    // run order: sentinel 0, seed 1, sentinel 1, seed 2, sentinel 2; the last sentinel ran slower
    let n = 0
    const replay = () => ({ trainer: recording({ seconds: n++ === 4 ? 0.2 : 0.1 }) })
    return Effect.gen(function* () {
      const counts = yield* runReplayed(file, [])
      assert.strictEqual(counts.succeeded, 5)
      const runs = yield* rows(
        `SELECT r.repeat, r.sentinel, x.sentinel_drift AS drift FROM runs r JOIN results x USING (run_id) ORDER BY r.started_at`
      )
      assert.deepStrictEqual(
        runs.map((r) => [r.repeat, r.sentinel]),
        [
          [1, 0],
          [0, null],
          [2, 1],
          [0, null],
          [3, 2]
        ]
      )
      // seed 1 sits between two sentinels that agree; seed 2 between two that do not
      assert.deepStrictEqual(
        runs.filter((r) => r.sentinel === null).map((r) => r.drift),
        [false, true]
      )
      const again = yield* runReplayed(file, [])
      assert.strictEqual(again["already done"], 5)
      assert.strictEqual(n, 5)
    }).pipe(Effect.provide(replayed(replay)))
  })

  it.live("records a skipped run as skipped and goes on; a quit interrupts the current run and starts no more", () => {
    const { file } = grid([1, 2, 3])
    const { calls, replay } = always({ trainer: recording({ pauseMs: 30 }) })
    const control = new RunControl()
    return Effect.gen(function* () {
      // skip the first run at its first step, quit the third at its first step
      const watch = (e: RunEvent) => {
        if (e.type === "trainer" && e.event.event === "step" && e.event.step === 0) {
          if (e.position === "1/3") control.skip()
          if (e.position === "3/3") control.quit()
        }
      }
      const counts = yield* runReplayed(file, [], { control, watch })
      assert.strictEqual(counts.skipped, 1)
      assert.strictEqual(counts.succeeded, 1)
      assert.strictEqual(counts.interrupted, 1)
      const ended = yield* rows(`SELECT status, finish_reason FROM runs ORDER BY started_at`)
      assert.deepStrictEqual(
        ended.map((r) => [r.status, r.finish_reason]),
        [
          ["skipped", "stop_requested"],
          ["succeeded", "window_complete"],
          ["interrupted", "stop_requested"]
        ]
      )
      const [kept] = yield* rows(`SELECT count(*)::INTEGER AS n FROM steps s JOIN runs r USING (run_id) WHERE r.status = 'skipped'`)
      assert.isBelow(kept!.n as number, 5, "the skipped trainer stopped before its window ended")

      // next time: the skipped and the interrupted runs are run again, the succeeded one is not
      const next = yield* runReplayed(file, [], { control: new RunControl() })
      assert.strictEqual(next["already done"], 1)
      assert.strictEqual(next.succeeded, 2)
      assert.strictEqual(calls.length, 5)
    }).pipe(Effect.provide(replayed(replay)))
  })
})
