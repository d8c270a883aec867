// The TUI of a local pool: one lane per slot naming it and its run (or "idle"), each run's events
// reaching its own lane, within an 80 × 24 terminal however many slots; plain and JSON watchers
// name each pooled run's slot on every line, and say nothing of slots outside a pool.
import { render } from "ink"
import { EventEmitter } from "node:events"
import { createElement as h } from "react"
import { afterEach, describe, expect, it } from "vitest"
import type { HashedCell } from "../../src/cells.ts"
import { eventProgress, plainProgress, type RunEvent } from "../../src/progress.ts"
import { App } from "../../src/tui/App.ts"
import { makeRunStore } from "../../src/tui/bridge.ts"
import { initialState, reduce, type Action } from "../../src/tui/state.ts"
import { end, figures, plan, sample, samplerInfo, started, step } from "./events.ts"

class Screen extends EventEmitter {
  readonly columns: number
  readonly rows: number
  constructor(columns: number, rows: number) {
    super()
    this.columns = columns
    this.rows = rows
  }
  frame = ""
  write = (text: string) => {
    this.frame = text
  }
}
class Keys extends EventEmitter {
  isTTY = false
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => null
}
const mounted: Array<{ unmount: () => void }> = []
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount()
})
const tick = (ms = 40) => new Promise((r) => setTimeout(r, ms))

/** The app on an 80 × 24 terminal fed `actions`; the frame's lines after the title and heads. */
const liveLines = async (actions: ReadonlyArray<Action>) => {
  const screen = new Screen(80, 24)
  const store = makeRunStore(() => 0)
  mounted.push(
    render(h(App, { store, keys: { skip: () => false, quit: () => {}, force: () => {} }, now: () => 65_000 }), {
      stdout: screen as never,
      stdin: new Keys() as never,
      stderr: new Screen(80, 24) as never,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false
    })
  )
  for (const a of actions) store.dispatch(a)
  await tick()
  const lines = screen.frame.replace(/\n$/, "").split("\n")
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80)
  return lines.slice(3) // the title (2 lines) and the column heads are printed once above
}

const rows = Array.from({ length: 12 }, (_, i) => ({
  position: `${i + 1}/12`,
  cellHash: String(i % 10).repeat(64),
  repeat: 0,
  label: null,
  axisValues: { optim: ["paged_adamw_8bit", "adamw_torch"][i % 2], gradientAccumulationSteps: i }
}))
const gpus = (n: number) => Array.from({ length: n }, (_, i) => `gpu ${i}`)
const pooled = (slots: Array<string>) =>
  plan(0, { cells: 12, runs: 12, toRun: 12, rows, slots, measure: { warmup: { steps: 2 }, window: { steps: 12 }, ciTarget: 0.02 } })
const startOn = (position: string, slot: string): Action => ({
  type: "start",
  at: 0,
  position,
  cellHash: "0".repeat(64),
  runId: position,
  slot,
  gpu: Number(slot.slice(4))
})
const measuring = (position: string, tokens: number) =>
  // the trainer reports its CI once the window holds 2 steps (the lane shows that figure)
  Array.from({ length: 8 }, (_, i) =>
    step(position, i, i < 2 ? "warmup" : "window", 100 + i, tokens + (i % 2), 1, undefined, null, i < 3 ? null : 0.04 / (i - 2))
  )

describe("a pool's lanes", () => {
  it("shows one lane per GPU at 80 × 24, each naming its GPU and its run, an idle one as idle", async () => {
    const live = await liveLines([
      pooled(gpus(4)),
      startOn("1/12", "gpu 0"),
      started("1/12", 10, { name: "NVIDIA H200", memoryMib: 143771 }),
      samplerInfo("1/12", "nvml", 143771),
      sample("1/12", 105, 420, 1_000_000, 30_720),
      ...measuring("1/12", 1000),
      startOn("2/12", "gpu 1"),
      ...measuring("2/12", 500),
      startOn("3/12", "gpu 2")
    ])
    expect(live.length).toBeLessThanOrEqual(24)
    const lane = (slot: string) => live.filter((l) => new RegExp(`^│ ${slot} `).test(l))
    expect(lane("gpu 0")).toHaveLength(1)
    expect(lane("gpu 0")[0]).toMatch(/gpu 0 {2}1\/12 ◉ measuring 8 steps · 1000\.5 tok\/s ±\d+\.\d% · 420 W · 30\.0\/140 GiB/) // elapsed and cell cut at the edge
    expect(lane("gpu 1")[0]).toMatch(/gpu 1 {2}2\/12 ◉ measuring 8 steps · 500\.5 tok\/s ±\d+\.\d% · 1:05 · 111111111111 o/)
    expect(lane("gpu 2")[0]).toMatch(/gpu 2 {2}3\/12 ◌ starting 0 steps · — tok\/s · 1:05/)
    expect(lane("gpu 3")[0]).toMatch(/gpu 3 {2}idle/)
    expect(live.join("\n")).not.toContain("phase") // not the one-run panel
    expect(live.filter((l) => /^\s*\d+\/12 /.test(l)).length).toBeGreaterThan(0) // the table's live rows still fit
  })

  it("with more slots than fit, the busy ones come first and one line counts the rest", async () => {
    const live = await liveLines([pooled(gpus(12)), startOn("1/12", "gpu 9"), startOn("2/12", "gpu 11")])
    expect(live.length).toBeLessThanOrEqual(24)
    const lanes = live.filter((l) => /^│ gpu \d+ /.test(l))
    expect(lanes).toHaveLength(7)
    expect(lanes[0]).toMatch(/gpu 9 +1\/12/)
    expect(lanes[1]).toMatch(/gpu 11 +2\/12/)
    expect(live.join("\n")).toContain("… 5 more slots (0 running)")
  })

  it("sends each run's events to its own lane and frees a lane when its run ends", () => {
    let s = [
      pooled(gpus(2)),
      startOn("1/12", "gpu 0"),
      startOn("2/12", "gpu 1"),
      ...measuring("1/12", 100),
      step("2/12", 0, "warmup", 100, 50, 1)
    ].reduce(reduce, initialState)
    expect(s.running.map((c) => [c.slot, c.position, c.steps])).toEqual([
      ["gpu 0", "1/12", 8],
      ["gpu 1", "2/12", 1]
    ])
    expect(s.rows.slice(0, 2).map((r) => r.status)).toEqual(["measuring", "warming up"])
    s = [end("1/12", 9_000, {}, figures(100)), startOn("3/12", "gpu 0")].reduce(reduce, s)
    expect(s.running.map((c) => [c.slot, c.position])).toEqual([
      ["gpu 1", "2/12"],
      ["gpu 0", "3/12"]
    ])
    // a slot's sentinel run, added while the grid runs, gets its row
    s = reduce(s, {
      type: "added",
      at: 0,
      row: { position: "sentinel 0", cellHash: "a".repeat(64), repeat: 1, label: "ref", axisValues: {} }
    })
    expect(s.rows.at(-1)).toMatchObject({ position: "sentinel 0", status: "queued" })
  })
})

describe("plain and JSON lines of a pool", () => {
  const cell = { cellHash: "c".repeat(64), label: null, axisValues: { batchSize: 4 } } as unknown as HashedCell
  const ended = (
    end("2/4", 0, { status: "failed", errorKind: "oom", errorMessage: "CUDA out of memory" }) as Extract<RunEvent, { type: "end" }>
  ).end
  const trainerStep = (step("2/4", 10, "window", 1, 100, 1) as Extract<RunEvent, { type: "trainer" }>).event

  it("every line of a pooled run carries its slot after its position; without a pool, none does", () => {
    for (const slot of [{ name: "gpu 1", gpu: { index: 1, uuid: "GPU-b" } }, undefined]) {
      const lines: Array<string> = []
      const p = plainProgress((l) => lines.push(l.slice(9))) // less the clock
      p.start("2/4", cell, "abcdef0123456789", slot)
      p.event("2/4", cell, trainerStep)
      p.end("2/4", cell, ended, null)
      p.start("3/4", cell, "0123456789abcdef") // the next run in the same lane, outside the pool
      const at = slot ? "[2/4 gpu1]" : "[2/4]"
      expect(lines).toEqual([
        `${at} run cccccccccccc batchSize=4 (run abcdef01)`,
        `${at}   step 10 window loss 4.000 100 tok/s`,
        `${at}   failed: oom: CUDA out of memory`,
        "[3/4] run cccccccccccc batchSize=4 (run 01234567)"
      ])
    }
  })

  it("every JSON event of a pooled run says its slot and GPU", () => {
    const events: Array<RunEvent> = []
    const p = eventProgress(
      (e) => events.push(e),
      () => 0
    )
    p.start("2/4", cell, "r", { name: "gpu 1", gpu: { index: 1, uuid: "GPU-b" } })
    p.event("2/4", cell, trainerStep)
    p.end("2/4", cell, ended, null)
    p.start("3/4", cell, "s", { name: "cpu 2", gpu: null })
    p.start("4/4", cell, "t")
    expect(events.map((e) => [e.type, (e as { slot?: string }).slot, (e as { gpu?: number | null }).gpu])).toEqual([
      ["start", "gpu 1", 1],
      ["trainer", "gpu 1", 1],
      ["end", "gpu 1", 1],
      ["start", "cpu 2", null],
      ["start", undefined, undefined]
    ])
    expect(Object.keys(events[4]!)).toEqual(["type", "at", "position", "cellHash", "runId"])
  })
})
