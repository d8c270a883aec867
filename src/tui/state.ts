// The TUI's state and the pure reducer that builds it from the runner's RunEvents (and the
// keyboard's requests): one row per planned run, the current cell's live series (one per slot of a
// local pool: its lanes), and the counts.
import type { PlanInfo, RunEvent, RunFigures } from "../progress.ts"
import { trapezoidJ, type PowerReading, type RateStep } from "./live.ts"

export type RowStatus =
  | "queued"
  | "resumed"
  | "starting"
  | "warming up"
  | "measuring"
  | "finishing"
  | "succeeded"
  | "unsteady"
  | "failed"
  | "skipped"
  | "interrupted"

export const finishedStatuses: ReadonlySet<RowStatus> = new Set(["resumed", "succeeded", "unsteady", "failed", "skipped", "interrupted"])

export interface Row {
  readonly position: string
  readonly cellHash: string
  readonly repeat: number
  readonly label: string | null
  readonly axisValues: Readonly<Record<string, unknown>>
  readonly status: RowStatus
  readonly failureKind: string | null
  readonly message: string | null
  readonly stderrTail: string | null
  readonly figures: (RunFigures & { readonly steady?: boolean | null }) | null
  /** Epoch ms. */
  readonly startedAt: number | null
  readonly endedAt: number | null
}

export interface Current {
  readonly position: string
  /** The pool slot running it ("gpu 0"); null outside a pool. */
  readonly slot: string | null
  readonly runId: string
  readonly startedAt: number
  readonly model: string | null
  readonly device: string | null
  readonly gpuMemoryMib: number | null
  readonly steps: number
  readonly warmupSteps: number
  /** Step index and seconds after the first step's start where the steady window began. */
  readonly windowStart: { readonly step: number; readonly seconds: number } | null
  readonly firstStepT: number | null
  readonly phase: "starting" | "warmup" | "window" | "after"
  /** Per-step token rate (tokens/s), the last 200 steps. */
  readonly rates: ReadonlyArray<number>
  readonly windowSteps: ReadonlyArray<RateStep>
  /** The trainer's CI half-width of the window's tok/s, relative (its last step event); null: none yet. */
  readonly ciHalfRel: number | null
  readonly loss: number | null
  readonly firstLoss: number | null
  readonly torchReservedMib: number | null
  readonly sampler: { readonly mode: string; readonly reason: string; readonly memTotalMib: number | null } | null
  readonly memUsedMib: number | null
  readonly hostRssMib: number | null
  readonly hostCpuPct: number | null
  readonly firstReading: PowerReading | null
  readonly lastReading: PowerReading | null
  readonly integratedJ: number
}

export interface RunState {
  readonly plan: PlanInfo | null
  readonly startedAt: number | null
  readonly rows: ReadonlyArray<Row>
  /** Positions in the order their rows finished: what the table prints once and never redraws. */
  readonly finished: ReadonlyArray<string>
  /** The runs going now: one at most outside a pool, one per busy slot in a pool. */
  readonly running: ReadonlyArray<Current>
  /** The run started last among those going (the one-trainer view). */
  readonly current: Current | null
  readonly summary: Record<string, number> | null
  readonly request: "skip" | "quit" | "force" | null
}

/** What the keyboard asked for, shown until the runner acts on it. */
export type Request = { readonly type: "request"; readonly what: "skip" | "quit" | "force" }
export type Action = RunEvent | Request

export const initialState: RunState = {
  plan: null,
  startedAt: null,
  rows: [],
  finished: [],
  running: [],
  current: null,
  summary: null,
  request: null
}

/** The state with these runs going; `current` follows them. */
const withRunning = (state: RunState, running: ReadonlyArray<Current>): RunState => ({ ...state, running, current: running.at(-1) ?? null })

/** The running run at `position` changed by `f` (nothing when it is not running). */
const updateRunning = (state: RunState, position: string, f: (c: Current) => Current): RunState | null => {
  const c = state.running.find((r) => r.position === position)
  return c === undefined
    ? null
    : withRunning(
        state,
        state.running.map((r) => (r === c ? f(r) : r))
      )
}

const newRow = (r: NonNullable<PlanInfo["rows"]>[number]): Row => ({
  ...r,
  status: "queued",
  failureKind: null,
  message: null,
  stderrTail: null,
  figures: null,
  startedAt: null,
  endedAt: null
})

const updateRow = (state: RunState, position: string, f: (row: Row) => Row): ReadonlyArray<Row> =>
  state.rows.map((r) => (r.position === position ? f(r) : r))

const finish = (state: RunState, position: string, f: (row: Row) => Row): RunState => ({
  ...state,
  rows: updateRow(state, position, f),
  finished: state.finished.includes(position) ? state.finished : [...state.finished, position]
})

const onTrainer = (c: Current, e: Extract<RunEvent, { type: "trainer" }>["event"]): Current => {
  switch (e.event) {
    case "started":
      return { ...c, model: e.model.name, device: e.env.gpu_name ?? e.env.device, gpuMemoryMib: e.env.gpu_memory_mib }
    case "step": {
      const seconds = Math.max(e.t_end - e.t_start, 1e-9)
      const firstStepT = c.firstStepT ?? e.t_start
      const enteringWindow = e.phase === "window" && c.windowStart === null
      return {
        ...c,
        steps: c.steps + 1,
        warmupSteps: c.warmupSteps + (e.phase === "warmup" ? 1 : 0),
        firstStepT,
        phase: e.phase,
        windowStart: enteringWindow ? { step: e.step, seconds: e.t_start - firstStepT } : c.windowStart,
        rates: [...c.rates, e.tokens / seconds].slice(-200),
        windowSteps: e.phase === "window" ? [...c.windowSteps, { tokens: e.tokens, seconds }] : c.windowSteps,
        ciHalfRel: e.ci_half_rel ?? null,
        loss: e.loss,
        firstLoss: c.firstLoss ?? e.loss,
        torchReservedMib: e.mem_reserved_mib ?? c.torchReservedMib
      }
    }
    default:
      return c
  }
}

const onSampler = (c: Current, e: Extract<RunEvent, { type: "sampler" }>["event"]): Current => {
  if (e.event === "sampler") return { ...c, sampler: { mode: e.mode, reason: e.reason, memTotalMib: e.memory_total_mib } }
  const reading: PowerReading = { t: e.t, powerW: e.power_w, energyMj: e.energy_mj }
  return {
    ...c,
    memUsedMib: e.mem_used_mib ?? c.memUsedMib,
    hostRssMib: e.host_rss_mib ?? c.hostRssMib,
    hostCpuPct: e.host_cpu_pct ?? c.hostCpuPct,
    firstReading: c.firstReading ?? reading,
    integratedJ: c.integratedJ + (c.lastReading === null ? 0 : trapezoidJ(c.lastReading, reading)),
    lastReading: reading
  }
}

const liveStatus = (phase: Current["phase"]): RowStatus =>
  phase === "warmup" ? "warming up" : phase === "window" ? "measuring" : phase === "after" ? "finishing" : "starting"

export const reduce = (state: RunState, a: Action): RunState => {
  switch (a.type) {
    case "plan":
      return { ...state, plan: a.info, startedAt: state.startedAt ?? a.at, rows: (a.info.rows ?? []).map(newRow) }
    case "added":
      return state.rows.some((r) => r.position === a.row.position) ? state : { ...state, rows: [...state.rows, newRow(a.row)] }
    case "resumed":
      return finish(state, a.position, (r) => ({ ...r, status: "resumed", figures: a.figures ?? null }))
    case "start": {
      const slot = a.slot ?? null
      const current: Current = {
        position: a.position,
        slot,
        runId: a.runId,
        startedAt: a.at,
        model: null,
        device: null,
        gpuMemoryMib: state.plan?.gpuMemoryMib ?? null,
        steps: 0,
        warmupSteps: 0,
        windowStart: null,
        firstStepT: null,
        phase: "starting",
        rates: [],
        windowSteps: [],
        ciHalfRel: null,
        loss: null,
        firstLoss: null,
        torchReservedMib: null,
        sampler: null,
        memUsedMib: null,
        hostRssMib: null,
        hostCpuPct: null,
        firstReading: null,
        lastReading: null,
        integratedJ: 0
      }
      // a new run takes its slot's lane (outside a pool, the one lane)
      return withRunning(
        {
          ...state,
          request: state.request === "skip" ? null : state.request,
          rows: updateRow(state, a.position, (r) => ({ ...r, status: "starting", startedAt: a.at }))
        },
        [...state.running.filter((c) => c.slot !== slot), current]
      )
    }
    case "trainer": {
      const next = updateRunning(state, a.position, (c) => onTrainer(c, a.event))
      if (next === null) return state
      const phase = next.running.find((c) => c.position === a.position)!.phase
      return { ...next, rows: updateRow(state, a.position, (r) => ({ ...r, status: liveStatus(phase) })) }
    }
    case "sampler":
      return updateRunning(state, a.position, (c) => onSampler(c, a.event)) ?? state
    case "end": {
      const { end, figures } = a
      const steady = (figures as Row["figures"])?.steady ?? end.finishReason === "window_complete"
      const status: RowStatus = end.status === "succeeded" ? (steady ? "succeeded" : "unsteady") : end.status
      const next = finish(state, a.position, (r) => ({
        ...r,
        status,
        figures,
        endedAt: a.at,
        failureKind: end.errorKind,
        message: end.errorMessage,
        stderrTail: end.status === "failed" ? end.stderrTail : null
      }))
      return withRunning(
        { ...next, request: state.request === "skip" ? null : state.request },
        state.running.filter((c) => c.position !== a.position)
      )
    }
    case "summary":
      return withRunning({ ...state, summary: a.counts, request: null }, [])
    case "request":
      return { ...state, request: a.what }
  }
}

export interface Counts {
  readonly done: number
  readonly resumed: number
  readonly skipped: number
  readonly failed: number
  readonly interrupted: number
  readonly left: number
}

export const countRows = (rows: ReadonlyArray<Row>): Counts => {
  const n = (...s: Array<RowStatus>) => rows.filter((r) => s.includes(r.status)).length
  return {
    done: n("succeeded", "unsteady"),
    resumed: n("resumed"),
    skipped: n("skipped"),
    failed: n("failed"),
    interrupted: n("interrupted"),
    left: n("queued", "starting", "warming up", "measuring", "finishing")
  }
}

/** Seconds each run that ran to an outcome took (skipped and interrupted runs say nothing about a cell's length). */
export const finishedDurations = (rows: ReadonlyArray<Row>): Array<number> =>
  rows
    .filter(
      (r) => (r.status === "succeeded" || r.status === "unsteady" || r.status === "failed") && r.startedAt !== null && r.endedAt !== null
    )
    .map((r) => (r.endedAt! - r.startedAt!) / 1000)

/** The axis names that vary across the grid's rows, in first-seen order. */
export const axisNames = (rows: ReadonlyArray<Row>): Array<string> => [...new Set(rows.flatMap((r) => Object.keys(r.axisValues)))]
