// Where a grid's wall time goes (issue #21 part 1), read from its run folders — a live grid's
// `.tunegrid/runs/` beside the ledger, or a `tunegrid_trainer.batch` output folder — so it works
// on any ledger's runs after the fact and on the GPU box's folders alike. Per run, from the event
// times both sides write on one clock (trainer/PROTOCOL.md: epoch seconds):
//   start     first sampler event → trainer `started` (process spawn, imports, model build, data,
//             and the sampler's 3 s idle-power reading before the trainer starts; for a trainer
//             pre-started by `run --prestart`, only what it did after its `go`)
//   phases    the trainer's own `timings` in `started`, when it reports them (imports, model, data…)
//   first     `started` → end of the first step (first forward/backward: kernel choice, compile)
//   warm-up   end of the first step → start of the first window step
//   window    first window step's start → last window step's end: the only time measured
//   tail      end of the window → `finished` (steps after the window, the run's last events)
//   teardown  `finished` → the process's exit (exit.json; a live run has none: shown as —)
//   gap       this run's first event − the previous run's last (the runner between cells)
// and the window's share of the grid's wall time (first event of the first run → last of the last).
//
//   node bench/grid_time.ts <runs-dir>... [--json]
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

interface Event {
  readonly event: string
  readonly t: number
  readonly [k: string]: unknown
}

export interface RunTimes {
  readonly run: string
  readonly cell: string
  readonly first: number
  readonly last: number
  readonly start: number | null
  readonly timings: Readonly<Record<string, number>> | null
  readonly firstStep: number | null
  readonly warmup: number | null
  readonly window: number | null
  readonly tail: number | null
  readonly teardown: number | null
  readonly status: string
}

const lines = (path: string): Array<Event> =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .flatMap((l) => {
          try {
            const e = JSON.parse(l) as Event
            return typeof e.t === "number" ? [e] : []
          } catch {
            return []
          }
        })
    : []

const span = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : b - a)

/** One run folder's phases; null when it has no trainer events. */
export const runTimes = (dir: string): RunTimes | null => {
  const trainer = lines(join(dir, "trainer.jsonl"))
  if (trainer.length === 0) return null
  const sampler = lines(join(dir, "sampler.jsonl"))
  const exitFile = join(dir, "exit.json")
  const exitT = existsSync(exitFile) ? (JSON.parse(readFileSync(exitFile, "utf8")) as { t_end?: number }).t_end : undefined
  const started = trainer.find((e) => e.event === "started")
  const steps = trainer.filter((e) => e.event === "step") as Array<Event & { t_start: number; t_end: number; phase: string }>
  const window = steps.filter((s) => s.phase === "window")
  const end = trainer.find((e) => e.event === "finished" || e.event === "failed")
  const first = Math.min(...[...sampler, ...trainer].map((e) => e.t), ...steps.map((s) => s.t_start))
  const last = Math.max(...[...sampler, ...trainer].map((e) => e.t), ...(exitT === undefined ? [] : [exitT]))
  const spec = (started?.spec ?? {}) as { cell_hash?: string }
  const timings = (started?.timings ?? null) as Record<string, number> | null
  return {
    run: dir.split("/").filter(Boolean).pop()!.slice(0, 8),
    cell: String(spec.cell_hash ?? started?.cell_hash ?? "?").slice(0, 12),
    first,
    last,
    start: span(first, started?.t),
    timings,
    firstStep: span(started?.t, steps[0]?.t_end),
    warmup: span(steps[0]?.t_end, window[0]?.t_start),
    window: span(window[0]?.t_start, window.at(-1)?.t_end),
    tail: span(window.at(-1)?.t_end ?? steps.at(-1)?.t_end, end?.t),
    teardown: span(end?.t, exitT),
    status:
      end === undefined ? "unfinished" : end.event === "failed" ? `failed: ${String(end.kind ?? "")}` : String(end.reason ?? "finished")
  }
}

/** Every run folder below the given folders (one level: <dir>/<run>/trainer.jsonl), in the order they ran. */
export const gridTimes = (dirs: ReadonlyArray<string>): Array<RunTimes> =>
  dirs
    .flatMap((d) =>
      readdirSync(d)
        .map((n) => join(d, n))
        .filter((p) => statSync(p).isDirectory())
    )
    .map(runTimes)
    .filter((r): r is RunTimes => r !== null)
    .sort((a, b) => a.first - b.first)

const s = (x: number | null | undefined) => (x === null || x === undefined ? "—" : x.toFixed(1))

const main = (argv: Array<string>) => {
  const dirs = argv.filter((a) => !a.startsWith("--"))
  if (dirs.length === 0) throw new Error("usage: node bench/grid_time.ts <runs-dir>... [--json]")
  const runs = gridTimes(dirs)
  if (runs.length === 0) throw new Error(`no run folders with a trainer.jsonl under ${dirs.join(", ")}`)
  const wall = runs.at(-1)!.last - runs[0]!.first
  const windowTotal = runs.reduce((sum, r) => sum + (r.window ?? 0), 0)
  if (argv.includes("--json")) {
    console.log(JSON.stringify({ runs, wall_s: wall, window_s: windowTotal, window_share: windowTotal / wall }))
    return
  }
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.timings ?? {})))]
  const head = [
    "run",
    "cell",
    "status",
    "gap s",
    "start s",
    ...keys.map((k) => `${k} s`),
    "first s",
    "warm-up s",
    "window s",
    "tail s",
    "teardown s",
    "window %"
  ]
  console.log(`| ${head.join(" | ")} |`)
  console.log(`| ${head.map(() => "---").join(" | ")} |`)
  runs.forEach((r, i) => {
    const gap = i === 0 ? null : r.first - runs[i - 1]!.last
    const share = r.window === null ? null : (100 * r.window) / (r.last - r.first)
    console.log(
      `| ${[r.run, r.cell, r.status, s(gap), s(r.start), ...keys.map((k) => s(r.timings?.[k])), s(r.firstStep), s(r.warmup), s(r.window), s(r.tail), s(r.teardown), s(share)].join(" | ")} |`
    )
  })
  console.log(
    `\n${runs.length} runs, wall ${wall.toFixed(1)} s (first event to last), inside windows ${windowTotal.toFixed(1)} s = ${((100 * windowTotal) / wall).toFixed(1)}%`
  )
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2))
