// The TUI in an 80 × 24 terminal: rows never wrap (columns give way instead), the live part fits
// the screen with the column heads kept in view, and the current-cell panel says "no target"
// for a grid whose CI target is null rather than "target ±0.0%".
import { render } from "ink"
import { EventEmitter } from "node:events"
import { createElement as h } from "react"
import { afterEach, describe, expect, it } from "vitest"
import { App } from "../../src/tui/App.ts"
import { makeRunStore } from "../../src/tui/bridge.ts"
import type { Action } from "../../src/tui/state.ts"
import { plan, samplerInfo, started, step } from "./events.ts"

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

/** The app on a terminal of `columns` × `rows`; returns the screen and the store to feed. */
const at = (columns: number, rows: number) => {
  const screen = new Screen(columns, rows)
  const store = makeRunStore(() => 0)
  const app = render(h(App, { store, keys: { skip: () => false, quit: () => {}, force: () => {} }, now: () => 5_000 }), {
    stdout: screen as never,
    stdin: new Keys() as never,
    stderr: new Screen(columns, rows) as never,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false
  })
  mounted.push(app)
  return { screen, store }
}

// twelve runs of a grid with two wordy axes, the first one running
const bigPlan = plan(0, {
  cells: 12,
  runs: 12,
  toRun: 12,
  measure: { warmup: { steps: 3 }, window: { steps: 12 }, ciTarget: null, maxSteps: 1000, maxSeconds: 60 },
  rows: Array.from({ length: 12 }, (_, i) => ({
    position: `${i + 1}/12`,
    cellHash: String(i % 10).repeat(64),
    repeat: 0,
    label: null,
    axisValues: {
      optim: ["paged_adamw_8bit", "adamw_torch"][i % 2],
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj"],
      gradientAccumulationSteps: i
    }
  }))
})
const running: Array<Action> = [
  bigPlan,
  { type: "start", at: 0, position: "1/12", cellHash: "0".repeat(64), runId: "r1" },
  started("1/12", 10),
  samplerInfo("1/12", "none", null, "NVMLError_LibraryNotFound: NVML Shared Library Not Found"),
  ...Array.from({ length: 8 }, (_, i) =>
    step("1/12", i, i < 3 ? "warmup" : "window", 100 + i, 90 + 7 * (i % 3), 1, 5, null, i < 4 ? null : 0.08)
  )
]

describe("the TUI at 80 × 24", () => {
  it("keeps every row on one line, the live part within 24 lines and the column heads in view", async () => {
    const { screen, store } = at(80, 24)
    for (const a of running) store.dispatch(a)
    await tick()
    const lines = screen.frame.replace(/\n$/, "").split("\n")
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80)
    // each run's row holds its status and its figures' dashes on the same line
    const rowLines = lines.filter((l) => /^\s*\d+\/12 /.test(l))
    expect(rowLines.length).toBeGreaterThan(0)
    for (const l of rowLines) expect(l).toMatch(/(queued|starting|warming up|measuring)\s.*—/)
    const staticPart = 3 // the title (2 lines) and the column heads, printed once above
    expect(lines.length - staticPart).toBeLessThanOrEqual(24)
    const live = lines.slice(staticPart)
    expect(live.some((l) => /^\s*#\s+status\s/.test(l))).toBe(true) // heads repeated above the live rows
    expect(live.join("\n")).toMatch(/… \d+ more queued/)
  })

  it("says the grid has no CI target when ciTarget is null, and the sampler's NVML error in words", async () => {
    const { screen, store } = at(80, 24)
    for (const a of running) store.dispatch(a)
    await tick()
    expect(screen.frame).toMatch(/±\d+\.\d% \(live estimate; no target in this grid\)/)
    expect(screen.frame).not.toContain("target ±0.0%")
    expect(screen.frame).toContain("no GPU sampler: NVML library not found (no NVIDIA driver here)")
    expect(screen.frame).not.toContain("NVMLError_LibraryNotFound")
  })

  it("shows runs that are already done as done from the start, not queued until their turn", async () => {
    const { screen, store } = at(100, 40)
    store.dispatch(bigPlan)
    // the scheduler announces every run already done right after the plan
    store.dispatch({ type: "resumed", at: 0, position: "7/12", cellHash: "6".repeat(64), repeat: 0, figures: null })
    await tick()
    expect(screen.frame).toMatch(/7\/12 .*↺ done before/)
  })
})
