// The TUI's reducer and live arithmetic: RunEvents in, the state the screen is drawn from out.
import { Deferred, Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { eventProgress, jsonProgress, RunControl, type RunEvent } from "../../src/progress.ts"
import { bar, energySoFar, etaSeconds, sparkline } from "../../src/tui/live.ts"
import { axisNames, countRows, finishedDurations, initialState, reduce, type Action, type RunState } from "../../src/tui/state.ts"
import { end, figures, plan, sample, samplerInfo, started, step } from "./events.ts"

const run = (actions: ReadonlyArray<Action>, from: RunState = initialState) => actions.reduce(reduce, from)

describe("TUI state from run events", () => {
  it("lists every planned run as queued and marks resumed ones done before, in finish order", () => {
    const s = run([plan(), { type: "resumed", at: 1, position: "2/3", cellHash: "bb".repeat(32), repeat: 0, figures: figures(321) }])
    expect(s.rows.map((r) => r.status)).toEqual(["queued", "resumed", "queued"])
    expect(s.rows[1]!.figures?.tok_s).toBe(321) // what the earlier run measured
    expect(s.finished).toEqual(["2/3"])
    expect(axisNames(s.rows)).toEqual(["batchSize", "learningRate"])
    expect(countRows(s.rows)).toMatchObject({ done: 0, resumed: 1, left: 2 })
  })

  it("follows a cell from starting through warm-up into the window, remembering where warm-up ended", () => {
    let s = run([plan(), { type: "start", at: 1000, position: "1/3", cellHash: "aa".repeat(32), runId: "r1" }])
    expect(s.rows[0]!.status).toBe("starting")
    s = run([started("1/3", 2000), step("1/3", 0, "warmup", 10, 100, 1), step("1/3", 1, "warmup", 11, 100, 1)], s)
    expect(s.rows[0]!.status).toBe("warming up")
    s = run([step("1/3", 2, "window", 12.5, 200, 1), step("1/3", 3, "window", 13.5, 300, 2)], s)
    expect(s.rows[0]!.status).toBe("measuring")
    const c = s.current!
    expect(c).toMatchObject({ steps: 4, warmupSteps: 2, windowStart: { step: 2, seconds: 2.5 }, model: "tiny", loss: 4.7, firstLoss: 5 })
    expect(c.rates).toEqual([100, 100, 200, 150])
    expect(c.windowSteps).toEqual([
      { tokens: 200, seconds: 1 },
      { tokens: 300, seconds: 2 }
    ])
  })

  it("ignores events from a run that is not the current one", () => {
    const s = run([plan(), { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" }, step("2/3", 0, "window", 0, 100, 1)])
    expect(s.current!.steps).toBe(0)
    expect(s.rows[1]!.status).toBe("queued")
  })

  it("takes energy from the card's counter when it has one, else integrates power", () => {
    const base = [plan(), { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" } as const]
    const counter = run([
      ...base,
      samplerInfo("1/3", "nvml", 8188),
      sample("1/3", 100, 90, 1_000_000, 3000),
      sample("1/3", 102, 110, 1_250_000, 4000)
    ])
    expect(energySoFar(counter.current!.firstReading, counter.current!.lastReading, counter.current!.integratedJ)).toEqual({
      joules: 250,
      method: "counter"
    })
    expect(counter.current!).toMatchObject({ memUsedMib: 4000, sampler: { memTotalMib: 8188 } })
    const power = run([
      ...base,
      sample("1/3", 100, 100, null, null),
      sample("1/3", 101, 200, null, null),
      sample("1/3", 103, 200, null, null)
    ])
    // (100+200)/2 W × 1 s + 200 W × 2 s = 550 J
    expect(energySoFar(power.current!.firstReading, power.current!.lastReading, power.current!.integratedJ)).toEqual({
      joules: 550,
      method: "integrated"
    })
  })

  it("records how each run ended: steady, unsteady, failed with its stderr tail, skipped", () => {
    const s = run([
      plan(),
      { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" },
      end("1/3", 10_000, {}, figures(1000)),
      { type: "start", at: 10_000, position: "2/3", cellHash: "b", runId: "r" },
      end("2/3", 30_000, { status: "failed", errorKind: "oom", errorMessage: "CUDA out of memory at step 3", stderrTail: "a\nb" }),
      { type: "start", at: 30_000, position: "3/3", cellHash: "c", runId: "r" },
      end("3/3", 31_000, { status: "skipped", finishReason: "stop_requested" })
    ])
    expect(s.rows.map((r) => r.status)).toEqual(["succeeded", "failed", "skipped"])
    expect(s.rows[1]).toMatchObject({ failureKind: "oom", message: "CUDA out of memory at step 3", stderrTail: "a\nb" })
    expect(s.finished).toEqual(["1/3", "2/3", "3/3"])
    expect(s.current).toBeNull()
    expect(finishedDurations(s.rows)).toEqual([10, 20]) // the skipped run does not teach the ETA
    const unsteady = run([
      plan(),
      { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" },
      end("1/3", 1, { finishReason: "max_seconds" }, null)
    ])
    expect(unsteady.rows[0]!.status).toBe("unsteady")
    const flagged = run([
      plan(),
      { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" },
      end("1/3", 1, {}, figures(900, { steady: false }))
    ])
    expect(flagged.rows[0]!.status).toBe("unsteady")
  })

  it("keeps a skip request on screen until the run ends, and a quit request until the summary", () => {
    let s = run([plan(), { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" }, { type: "request", what: "skip" }])
    expect(s.request).toBe("skip")
    s = run([end("1/3", 1, { status: "skipped" }), { type: "request", what: "quit" }], s)
    expect(s.request).toBe("quit")
    s = run([{ type: "summary", at: 2, counts: { skipped: 1, left: 2 } }], s)
    expect(s.request).toBeNull()
    expect(s.summary).toEqual({ skipped: 1, left: 2 })
  })
})

describe("live arithmetic", () => {
  it("ETA is the mean finished duration times what is queued, plus what the current run still needs", () => {
    expect(etaSeconds([], 3, 5)).toBeNull()
    expect(etaSeconds([10, 20], 2, 5)).toBe(15 * 2 + 10)
    expect(etaSeconds([10], 1, 30)).toBe(10) // the current run is already over its expected length
  })

  it("the live CI is the trainer's: the last step event's ci_half_rel, null when the trainer sends none", () => {
    const start: Action = { type: "start", at: 0, position: "1/3", cellHash: "a", runId: "r" }
    const ciAfter = (events: ReadonlyArray<Action>) => run([plan(), start, ...events]).current!.ciHalfRel
    expect(ciAfter([step("1/3", 0, "window", 0, 100, 1, 5, null, null)])).toBeNull()
    expect(ciAfter([step("1/3", 0, "window", 0, 100, 1, 5, null, 0.2), step("1/3", 1, "window", 1, 100, 1, 5, null, 0.07)])).toBe(0.07)
    // however noisy the steps, nothing is estimated from their durations
    expect(ciAfter([0, 1, 2, 3, 4, 5].map((i) => step("1/3", i, "window", i, i % 2 ? 10 : 1000, 1)))).toBeNull()
  })

  it("sparkline scales between the lowest and highest value; bars clamp", () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe("▁▂▃▄▅▆▇█")
    expect(sparkline([5, 5])).toBe("▄▄")
    expect(bar(0.5, 4)).toBe("██░░")
    expect(bar(3, 4)).toBe("████")
  })
})

describe("event watchers", () => {
  it("--json writes one parseable line per event, in order", () => {
    const lines: Array<string> = []
    const p = jsonProgress((l) => lines.push(l))
    const cell = { cellHash: "aa".repeat(32) } as Parameters<typeof p.start>[1]
    p.start("1/2", cell, "run-1")
    p.summary({ succeeded: 1 })
    const parsed = lines.map((l) => JSON.parse(l) as RunEvent)
    expect(parsed.map((e) => e.type)).toEqual(["start", "summary"])
    expect(parsed[0]).toMatchObject({ position: "1/2", cellHash: "aa".repeat(32), runId: "run-1" })
  })

  it("the TUI's events carry the time they happened", () => {
    const got: Array<RunEvent> = []
    eventProgress(
      (e) => got.push(e),
      () => 42
    ).summary({})
    expect(got).toEqual([{ type: "summary", at: 42, counts: {} }])
  })
})

describe("RunControl (keys → the scheduler's stop Deferred)", () => {
  const fresh = () => Effect.runSync(Deferred.make<"skip" | "interrupt">())
  const peek = (d: Deferred.Deferred<"skip" | "interrupt">) =>
    Effect.runSync(
      Deferred.poll(d).pipe(Effect.flatMap((o) => (Option.isSome(o) ? Effect.map(o.value, Option.some) : Effect.succeed(Option.none()))))
    )

  it("s completes the attached run's stop with skip; nothing happens between runs", () => {
    const c = new RunControl()
    expect(c.skip()).toBe(false)
    const stop = fresh()
    c.attach(stop)
    expect(c.skip()).toBe(true)
    expect(peek(stop)).toEqual(Option.some("skip"))
    c.detach()
    expect(c.skip()).toBe(false)
  })

  it("q interrupts the current run, and a run attached after q is interrupted at once", () => {
    const c = new RunControl()
    const first = fresh()
    c.attach(first)
    c.quit()
    expect(c.quitting).toBe(true)
    expect(peek(first)).toEqual(Option.some("interrupt"))
    c.detach()
    const next = fresh()
    c.attach(next)
    expect(peek(next)).toEqual(Option.some("interrupt"))
  })
})
