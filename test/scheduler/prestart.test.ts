// Pre-start in-process (sequence.ts, trainer/PROTOCOL.md §2a): with the trainer replayed, each
// next run's trainer is started as the current run's trainer is spawned, paused before the current
// run's window, continued when it finishes, and told `go` by the run that adopts it (the same run
// id the ledger records); a quit kills the unused one; without --prestart none is started.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunControl, type RunEvent } from "../../src/progress.ts"
import type { TrainerEvent } from "../../src/protocol.ts"
import { pausesBefore } from "../../src/sequence.ts"
import type { PrestartLog } from "../../src/trainer/replay.ts"
import { always, grid, recording, replayed, rows, runReplayed } from "./replays.ts"

const runIds = Effect.map(rows(`SELECT run_id FROM runs ORDER BY started_at`), (r) => r.map((x) => String(x.run_id)))

describe("pre-start", () => {
  it("pauses before the window: at the last warm-up step's end with a warm-up of steps, else at `started`", () => {
    const step = (n: number, phase: "warmup" | "window") => ({ event: "step", step: n, phase }) as TrainerEvent
    const started = { event: "started" } as TrainerEvent
    const of3 = pausesBefore({ steps: 3 })
    assert.deepStrictEqual([started, step(0, "warmup"), step(1, "warmup"), step(2, "warmup"), step(3, "window")].map(of3), [
      false,
      false,
      false,
      true,
      true
    ])
    assert.isTrue(pausesBefore({ steps: 0 })(started))
    assert.isTrue(pausesBefore({ seconds: 10 })(started))
    assert.isTrue(pausesBefore({ detect: { floorSeconds: 5, capSeconds: 60 } })(started))
    assert.isTrue(pausesBefore({ detect: { floorSeconds: 5, capSeconds: 60 } })(step(4, "window")))
  })

  it.live("starts each next run's trainer during the current one, paused while it steps, and hands it over", () => {
    const { file } = grid([1, 2, 3])
    const { replay } = always({ trainer: recording({ pauseMs: 5 }) })
    const log: PrestartLog = []
    const seen: Array<string> = [] // what the watchers saw, with how much of the log had happened by then
    return Effect.gen(function* () {
      const watch = (e: RunEvent) => {
        if (e.type === "start") seen.push(`start ${e.position} @${log.length}`)
        if (e.type === "trainer" && e.event.event === "step" && e.event.step === 1) seen.push(`window ${e.position} @${log.length}`)
        if (e.type === "end") seen.push(`end ${e.position} @${log.length}`)
      }
      const counts = yield* runReplayed(file, [], { watch, prestart: true })
      assert.strictEqual(counts.succeeded, 3)
      const [, second, third] = yield* runIds
      assert.deepStrictEqual(
        log.map((l) => `${l.action} ${l.runId === second ? 2 : l.runId === third ? 3 : "?"}`),
        ["spawn 2", "SIGSTOP 2", "SIGCONT 2", "go 2", "spawn 3", "SIGSTOP 3", "SIGCONT 3", "go 3"]
      )
      // paused at the end of the last warm-up step (the grid's 1 step), so before the first window step;
      // continued at `finished`, before the run's end
      assert.deepStrictEqual(seen, [
        "start 1/3 @0",
        "window 1/3 @2",
        "end 1/3 @3",
        "start 2/3 @3",
        "window 2/3 @6",
        "end 2/3 @7",
        "start 3/3 @7",
        "window 3/3 @8",
        "end 3/3 @8"
      ])
      const files = yield* rows(`SELECT count(*)::INTEGER AS n FROM steps`)
      assert.strictEqual(files[0]!.n, 15, "every run's steps reached the ledger, adopted ones too")
    }).pipe(Effect.provide(replayed(replay, log)))
  })

  it.live("kills the pre-started trainer when the grid quits, and starts none without --prestart", () => {
    const { file } = grid([1, 2, 3])
    const { replay } = always({ trainer: recording({ pauseMs: 30 }) })
    const control = new RunControl()
    const log: PrestartLog = []
    return Effect.gen(function* () {
      const watch = (e: RunEvent) => {
        if (e.type === "trainer" && e.event.event === "step" && e.event.step === 0 && e.position === "1/3") control.quit()
      }
      const counts = yield* runReplayed(file, [], { control, watch, prestart: true })
      assert.strictEqual(counts.interrupted, 1)
      assert.strictEqual(counts.left, 2)
      assert.deepStrictEqual(
        log.map((l) => l.action),
        ["spawn", "SIGSTOP", "SIGKILL"]
      )
      assert.strictEqual((yield* runIds).length, 1, "the pre-started run never reached the ledger")

      log.length = 0
      yield* runReplayed(file, [], {})
      assert.deepStrictEqual(log, [])
    }).pipe(Effect.provide(replayed(replay, log)))
  })
})
