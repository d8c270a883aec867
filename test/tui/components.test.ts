// The TUI's components rendered from state (ink-testing-library): every row status, the
// current-cell panel on CPU and GPU, and the keys reaching the runner's controls.
import { render } from "ink-testing-library"
import { createElement as h } from "react"
import { afterEach, describe, expect, it } from "vitest"
import { App } from "../../src/tui/App.ts"
import { makeRunStore } from "../../src/tui/bridge.ts"
import { CurrentPanel } from "../../src/tui/current.ts"
import { initialState, reduce, type Action, type Row, type RowStatus } from "../../src/tui/state.ts"
import { layoutFor, RowLine } from "../../src/tui/table.ts"
import { end, figures, plan, sample, samplerInfo, started, step } from "./events.ts"

const mounted: Array<{ unmount: () => void }> = []
const frame = (node: Parameters<typeof render>[0]) => {
  const r = render(node)
  mounted.push(r)
  return r
}
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount()
})
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))

const row = (status: RowStatus, extra: Partial<Row> = {}): Row => ({
  position: "2/12",
  cellHash: "c1e43bc4172e".padEnd(64, "0"),
  repeat: 0,
  label: null,
  axisValues: { batchSize: 4, optim: "paged_adamw_8bit" },
  status,
  failureKind: null,
  message: null,
  stderrTail: null,
  figures: null,
  startedAt: null,
  endedAt: null,
  ...extra
})
const layout = layoutFor([row("queued")], ["batchSize", "optim"], 100) // ink-testing-library's terminal is 100 columns
const line = (r: Row) => frame(h(RowLine, { row: r, layout })).lastFrame()!

describe("grid table rows", () => {
  it.each([
    ["queued", "· queued"],
    ["resumed", "↺ done before"],
    ["starting", "◌ starting"],
    ["warming up", "◔ warming up"],
    ["measuring", "◉ measuring"],
    ["skipped", "↷ skipped"],
    ["interrupted", "■ interrupted"]
  ] as const)("shows %s with the cell's axis values", (status, text) => {
    const out = line(row(status))
    expect(out).toContain(text)
    expect(out).toMatch(/2\/12 (c1e43bc4172e )?.* 4\s+paged_adamw_8bit/) // at 100 columns the cell hash gives way to the figures
  })

  it("a succeeded row shows tok/s with its CI in percent (as the log does), T10k, VRAM peak and J/token", () => {
    const out = line(row("succeeded", { figures: figures(1250, { tok_s_ci_half: 10, tok_s_ci_rel: 0.008 }) }))
    expect(out).toContain("✔ succeeded")
    expect(out).toMatch(/1250\.0 ±0\.8%\s+8\.00\s+6144\s+1\.23e-2/)
  })

  it("without CI columns the tok/s stands alone, and missing VRAM/energy show as dashes", () => {
    const out = line(
      row("unsteady", { figures: figures(177.5, { vram_peak_mib: null, torch_peak_reserved_mib: null, j_per_token: null }) })
    )
    expect(out).toContain("~ unsteady")
    expect(out).toMatch(/177\.5\s+56\.34\s+—\s+—/)
    expect(out).not.toContain("±")
  })

  const stderrTail = Array.from({ length: 9 }, (_, i) => `stderr line ${i}`).join("\n")
  it.each([
    ["oom", "failed: oom"],
    ["nan_loss", "failed: nan"],
    ["missing_dependency", "failed: missing dep"],
    ["bad_spec", "failed: bad spec"]
  ])("a %s failure shows its kind and the trainer's message, not its traceback", (kind, text) => {
    const out = line(row("failed", { failureKind: kind, message: "the trainer says why", stderrTail }))
    expect(out).toContain(`✖ ${text}`)
    expect(out).toContain("the trainer says why")
    expect(out).not.toContain("stderr line")
  })

  it("a crash (the trainer could not say why) shows the runner's message and the last 6 stderr lines", () => {
    const out = line(
      row("failed", { failureKind: "crash", message: "the trainer was killed by SIGKILL without reporting why", stderrTail })
    )
    expect(out).toContain("✖ failed: crash")
    expect(out).toContain("killed by SIGKILL")
    expect(out).toContain("│ stderr line 8")
    expect(out).toContain("│ stderr line 3")
    expect(out).not.toContain("stderr line 2")
  })
})

const state = (actions: ReadonlyArray<Action>) => actions.reduce(reduce, initialState)
const startAt = (at: number): Action => ({ type: "start", at, position: "1/3", cellHash: "aa".repeat(32), runId: "r1" })

describe("current-cell panel", () => {
  it("while warming up, says so and how long warm-up lasts", () => {
    const s = state([plan(), startAt(0), started("1/3", 10), step("1/3", 0, "warmup", 100, 100, 1)])
    const out = frame(
      h(CurrentPanel, { current: s.current!, row: s.rows[0], measure: { warmup: { steps: 3 }, window: { steps: 12 } }, now: 65_000 })
    ).lastFrame()!
    expect(out).toContain("warming up: 1 steps so far, excluded until 3 steps")
    expect(out).toContain("1 (1 warm-up + 0 window of 12 steps)")
    expect(out).toContain("tiny on cpu · 1:05")
  })

  it("on a GPU while measuring: warm-up boundary, sparkline, CI bar against the target, power, energy, VRAM bar and loss", () => {
    const steps = Array.from({ length: 12 }, (_, i) =>
      step("1/3", i, i < 2 ? "warmup" : "window", 100 + i, i < 2 ? 500 : 1000 + (i % 2) * 10, 1, 2 - i * 0.1, 5000, i < 3 ? null : 0.004)
    )
    const s = state([
      plan(),
      startAt(0),
      started("1/3", 10, { name: "NVIDIA H100", memoryMib: 81559 }),
      samplerInfo("1/3", "nvml", 81559),
      sample("1/3", 100, 300, 5_000_000, 40_000),
      sample("1/3", 112, 310, 8_600_000, 40_960),
      ...steps
    ])
    const out = frame(h(CurrentPanel, { current: s.current!, row: s.rows[0], measure: { ciTarget: 0.02 }, now: 20_000 })).lastFrame()!
    expect(out).toContain("measuring: warm-up ended at step 2 (2.0 s)")
    expect(out).toContain("12 (2 warm-up + 10 window)")
    expect(out).toMatch(/[▁-█]{12} 1010\.0 tok\/s now · window 1005\.0/)
    expect(out).toMatch(/█{20} ±0\.4% → target ±2\.0%/) // the trainer's half-width is under the target: the bar is full
    expect(out).toContain("310 W · 3.60 kJ so far (counter)")
    expect(out).toMatch(/█{10}░{10} 40\.00 \/ 79\.6 GiB/)
    expect(out).toContain("0.900 (first 2.000)")
    expect(out).toContain("NVIDIA H100")
  })

  it("on a CPU: no sampler reason instead of power, host RSS instead of a VRAM bar, no bar without a CI target", () => {
    const steps = Array.from({ length: 6 }, (_, i) => step("1/3", i, "window", 100 + i, 100 + i * 20, 1, 5, null, i === 0 ? null : 0.3 / i))
    const s = state([plan(), startAt(0), samplerInfo("1/3", "none", null), sample("1/3", 100, null, null, null), ...steps])
    const out = frame(h(CurrentPanel, { current: s.current!, row: s.rows[0], measure: {}, now: 0 })).lastFrame()!
    expect(out).toContain("— (no GPU sampler: no NVIDIA GPU)")
    expect(out).toContain("— (no GPU) · host RSS 512 MiB")
    expect(out).toMatch(/±\d+\.\d% \(live estimate; no target in this grid\)/)
    expect(out).toContain("±6.0% (live estimate") // the last step's own figure: 0.3 / 5
  })

  it("shows the trainer's CI as it narrows, and a dash while the trainer reports none (events of older trainers)", () => {
    const wide = state([plan(), startAt(0), ...[0.5, 0.1, 0.03].map((ci, i) => step("1/3", i, "window", 100 + i, 100, 1, 5, null, ci))])
    const ciLine = (s: ReturnType<typeof state>) =>
      frame(h(CurrentPanel, { current: s.current!, row: s.rows[0], measure: { ciTarget: 0.06 }, now: 0 }))
        .lastFrame()!
        .split("\n")
        .find((l) => l.includes("CI"))!
    expect(ciLine(wide)).toMatch(/█{20} ±3\.0% → target ±6\.0%/)
    const narrowing = state([plan(), startAt(0), ...[0.5, 0.12].map((ci, i) => step("1/3", i, "window", 100 + i, 100, 1, 5, null, ci))])
    expect(ciLine(narrowing)).toMatch(/█{10}░{10} ±12\.0% → target ±6\.0%/) // half way to the target
    const old = state([plan(), startAt(0), ...Array.from({ length: 8 }, (_, i) => step("1/3", i, "window", 100 + i, 100 + i * 20, 1))])
    expect(ciLine(old)).toContain("— (the trainer reports it once the window holds 2 steps)")
  })

  it("a reason longer than the terminal is cut at the edge, keeping the labels aligned", () => {
    const s = state([plan(), startAt(0), samplerInfo("1/3", "none", null, `no NVIDIA GPU: ${"NVML init failed ".repeat(12)}`)])
    const lines = frame(h(CurrentPanel, { current: s.current!, row: s.rows[0], measure: {}, now: 0 }))
      .lastFrame()!
      .split("\n")
    const power = lines.find((l) => l.includes("power"))!
    expect(power).toMatch(/│ power {4}— \(no GPU sampler: no NVIDIA GPU: NVML init failed .*…\s*│$/)
    expect(lines.filter((l) => l.includes("NVML"))).toHaveLength(1)
  })
})

describe("the whole screen", () => {
  it("prints finished rows once above the live rows, counts, and sends s / q / q to the runner", async () => {
    const store = makeRunStore(() => 0)
    const calls: Array<string> = []
    const keys = { skip: () => (calls.push("skip"), true), quit: () => void calls.push("quit"), force: () => void calls.push("force") }
    const app = frame(h(App, { store, keys, now: () => 30_000 }))
    for (const a of [plan(), startAt(0), end("1/3", 10_000, {}, figures(500)), { ...startAt(10_000), position: "2/3" }] as Array<Action>)
      store.dispatch(a)
    await tick()
    const out = app.lastFrame()!
    expect(out).toContain("tunegrid · demo")
    expect(out).toMatch(/1\/3 (aaaaaaaaaaaa )?✔ succeeded\s+1\s+0\.003\s+500\.0/) // 100 columns: the hash may give way
    expect(out).toMatch(/2\/3 bbbbbbbbbbbb|2\/3 aaaaaaaaaaaa ◌ starting/)
    expect(out).toContain("done 1 · resumed 0 · skipped 0 · failed 0 · left 2 · elapsed 0:30 · ETA 0:10")
    app.stdin.write("s")
    await tick()
    expect(app.lastFrame()).toContain("skipping this cell…")
    app.stdin.write("q")
    await tick()
    expect(app.lastFrame()).toContain("stopping after this run is recorded")
    app.stdin.write("\u0003") // Ctrl-C after q forces
    await tick()
    expect(calls).toEqual(["skip", "quit", "force"])
    expect(app.lastFrame()!.match(/✔ succeeded/g)).toHaveLength(1)
  })

  it("Ctrl-C first asks for a graceful stop, like q", async () => {
    const calls: Array<string> = []
    const app = frame(
      h(App, {
        store: makeRunStore(),
        keys: { skip: () => false, quit: () => void calls.push("quit"), force: () => void calls.push("force") }
      })
    )
    await tick()
    app.stdin.write("\u0003")
    await tick()
    expect(calls).toEqual(["quit"])
    expect(app.lastFrame()).toContain("stopping after this run is recorded (q again forces)")
  })

  it("? toggles the help", async () => {
    const app = frame(h(App, { store: makeRunStore(), keys: { skip: () => false, quit: () => {}, force: () => {} } }))
    await tick()
    app.stdin.write("?")
    await tick()
    expect(app.lastFrame()).toContain("skip the current cell (recorded as skipped")
    app.stdin.write("?")
    await tick()
    expect(app.lastFrame()).not.toContain("skip the current cell (recorded as skipped")
  })
})
