// Grid definition → the list of runs to make: defaults, explicit cells, cartesian axes,
// exclusions, seeds, repeats and order. Pure: no files, no clock.
import { canonicalJson } from "../hash.ts"
import { resolveBudget } from "../vram/budget.ts"
import type { Reference } from "./reference.ts"
import { backendProblems } from "./backends.ts"
import { defaultCell, defaultDetect, defaultMeasure, defaultSeeds } from "./defaults.ts"
import type { CellConfig, CellKey, GridDef, Measure, PartialCell, Span } from "./schema.ts"

export interface ExpandedCell {
  readonly index: number
  readonly label: string | null
  readonly config: CellConfig
  readonly seed: number
  /** The fields that vary across this grid, with this cell's values (for tables and the TUI). */
  readonly axisValues: Readonly<Record<string, unknown>>
  /** Published figures for this configuration (from its `cells` entry); not part of the hash. */
  readonly reference?: Reference | null
  /** Runs alone in a local pool (its `cells` entry's `exclusive`); not part of the hash. */
  readonly exclusive?: boolean
}

export interface PlannedRun {
  readonly cell: ExpandedCell
  readonly repeat: number
  /** The occurrence (0, 1, …) when this run is a sentinel re-run; absent for the grid's own runs. */
  readonly sentinel?: number
}

export interface Expansion {
  readonly cells: ReadonlyArray<ExpandedCell>
  readonly runs: ReadonlyArray<PlannedRun>
  readonly measure: Measure
}

/** A problem found while expanding; `path` locates it in the grid definition. */
export interface ExpandProblem {
  readonly path: string
  readonly value: unknown
  readonly expected: string
}

const durationUnits: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 }

/** "90s" | "2m" | "1.5h" | "500ms" → seconds, or null if it does not parse. */
export const parseSeconds = (text: string): number | null => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)\s*$/.exec(text)
  if (!m) return null
  return Number(m[1]) * durationUnits[m[2]!]!
}

export const parseSpan = (span: Span): { steps: number } | { seconds: number } | null => {
  if (typeof span !== "string") return span
  const steps = /^\s*(\d+)\s*steps?\s*$/.exec(span)
  if (steps) return { steps: Number(steps[1]) }
  const seconds = parseSeconds(span)
  return seconds === null ? null : { seconds }
}

export const resolveMeasure = (def: GridDef, problems: Array<ExpandProblem>): Measure => {
  const input = { ...defaultMeasure, ...def.measure }
  const duration = (path: string, text: string, fallback: number) => {
    const seconds = parseSeconds(text)
    if (seconds === null) problems.push({ path, value: text, expected: `a duration like "60s" or "2m"` })
    return seconds ?? fallback
  }
  const warmup = ((): Measure["warmup"] => {
    const raw = input.warmup
    if (raw === "detect" || (typeof raw === "object" && "detect" in raw)) {
      const bounds = { ...defaultDetect, ...(typeof raw === "object" ? raw.detect : {}) }
      const floorSeconds = duration("measure.warmup.detect.floor", bounds.floor, 0)
      const capSeconds = duration("measure.warmup.detect.cap", bounds.cap, 0)
      if (capSeconds < floorSeconds)
        problems.push({ path: "measure.warmup.detect.cap", value: bounds.cap, expected: `a duration ≥ the floor (${bounds.floor})` })
      return { detect: { floorSeconds, capSeconds } }
    }
    const parsed = parseSpan(raw)
    if (parsed === null) {
      problems.push({ path: "measure.warmup", value: raw, expected: `a duration like "60s", a step count like "20 steps", or "detect"` })
      return { steps: 0 }
    }
    return parsed
  })()
  const window = ((): Measure["window"] => {
    if (input.window === "adaptive") return { adaptive: { minSeconds: duration("measure.minWindow", input.minWindow, 0) } }
    const parsed = parseSpan(input.window)
    if (parsed === null) {
      problems.push({
        path: "measure.window",
        value: input.window,
        expected: `a duration like "120s", a step count like "20 steps", or "adaptive"`
      })
      return { steps: 0 }
    }
    return parsed
  })()
  const ciTarget = input.ciTarget
  if ("adaptive" in window && ciTarget === null) {
    problems.push({
      path: "measure.ciTarget",
      value: null,
      expected: `a target such as 0.02 (±2%): window "adaptive" stops when the CI reaches it`
    })
  }
  const maxSeconds = parseSeconds(input.maxDuration)
  if (maxSeconds === null) {
    problems.push({ path: "measure.maxDuration", value: input.maxDuration, expected: `a duration like "15m"` })
  }
  if ("steps" in window && window.steps === 0)
    problems.push({ path: "measure.window", value: input.window, expected: "a window of at least 1 step" })
  return { warmup, window, ciTarget, maxSteps: input.maxSteps, maxSeconds: maxSeconds ?? 0 }
}

const sameValue = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b)

const matches = (config: CellConfig, rule: PartialCell) =>
  Object.entries(rule).every(([key, value]) => sameValue(config[key as CellKey], value))

/** Deterministic PRNG (mulberry32) so a randomized order is the same on every machine. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export const shuffle = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
  const out = [...items]
  const random = mulberry32(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const cartesian = (axes: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>): Array<Record<string, unknown>> =>
  axes.reduce<Array<Record<string, unknown>>>(
    (acc, [key, values]) => acc.flatMap((partial) => values.map((value) => ({ ...partial, [key]: value }))),
    [{}]
  )

const bitsandbytesOptims = new Set(["adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit"])

/** Combinations no trainer can run, found before anything starts. */
const impossible = (config: CellConfig): string | null => {
  if (config.device === "cpu" && config.method === "qlora") return "method qlora needs a CUDA device (device auto or cuda), not cpu"
  if (config.device === "cpu" && bitsandbytesOptims.has(config.optim))
    return `optim ${config.optim} (bitsandbytes) needs a CUDA device, not cpu`
  if (config.device === "cpu" && config.precision === "fp16")
    return "precision fp16 needs a CUDA device (CPU autocast supports bf16), not cpu"
  return impossibleCards(config)
}

/** torchDtype and vramBudget (issues #16, #17). */
const impossibleCards = (config: CellConfig): string | null => {
  if (config.method === "qlora" && config.torchDtype !== null && config.torchDtype !== "fp32") {
    return `torchDtype null or "fp32" for method qlora (the 4-bit config decides the quantized weights; "fp32" upcasts the rest as PEFT's prepare_model_for_kbit_training does), not ${JSON.stringify(config.torchDtype)}`
  }
  if ((config.torchDtype === "fp16" || config.torchDtype === "bf16") && config.precision === "fp32") {
    return `precision fp16 or bf16 with torchDtype ${config.torchDtype} (a 16-bit base needs autocast), not fp32`
  }
  if (config.vramBudget === null) return null
  if (config.device === "cpu") return "vramBudget null on device cpu (a budget holds PyTorch's CUDA allocator)"
  const budget = resolveBudget(config.vramBudget)
  return typeof budget === "string" ? `vramBudget: ${budget}` : null
}

export const expandGrid = (def: GridDef): { expansion: Expansion; problems: Array<ExpandProblem> } => {
  const problems: Array<ExpandProblem> = []
  const measure = resolveMeasure(def, problems)
  const base: CellConfig = { ...defaultCell, ...def.base }
  const explicit = def.cells ?? [{}]
  const axisEntries = Object.entries(def.axes ?? {}) as Array<[string, ReadonlyArray<unknown>]>
  const combos = cartesian(axisEntries)
  const seeds = def.seeds ?? defaultSeeds

  const configs: Array<{
    label: string | null
    config: CellConfig
    seed: number
    path: string
    reference: Reference | null
    exclusive: boolean
  }> = []
  explicit.forEach((cell, ci) => {
    const { label, reference, exclusive, ...fields } = cell as PartialCell & { label?: string; reference?: Reference; exclusive?: boolean }
    combos.forEach((combo, ai) => {
      const config = { ...base, ...fields, ...combo } as CellConfig
      if ((def.exclude ?? []).some((rule) => matches(config, rule))) return
      const path = def.cells ? `cells[${ci}]` + (axisEntries.length ? ` × axes combination ${ai}` : "") : `axes combination ${ai}`
      for (const seed of seeds)
        configs.push({ label: label ?? null, config, seed, path, reference: reference ?? null, exclusive: exclusive ?? false })
    })
  })

  if (configs.length === 0) {
    problems.push({ path: "exclude", value: def.exclude ?? [], expected: "a grid that leaves at least one cell after exclusions" })
  }

  const seen = new Map<string, string>()
  for (const { config, seed, path } of configs) {
    const key = canonicalJson({ config, seed })
    const first = seen.get(key)
    if (first !== undefined) problems.push({ path, value: config, expected: `a cell different from ${first} (the two are identical)` })
    else seen.set(key, path)
    const reason = impossible(config)
    if (reason !== null) {
      const { method, optim, device, torchDtype, vramBudget } = config
      problems.push({
        path,
        value: { method, optim, device, ...(torchDtype !== null ? { torchDtype } : {}), ...(vramBudget !== null ? { vramBudget } : {}) },
        expected: reason
      })
    }
    for (const p of backendProblems(config)) {
      const at = `${path}: ${p.field}`
      if (!problems.some((q) => q.path === at)) problems.push({ path: at, value: p.value, expected: p.expected })
    }
  }

  const varying = (Object.keys(base) as Array<CellKey>).filter((key) =>
    configs.some(({ config }) => !sameValue(config[key], configs[0]!.config[key]))
  )
  const multiSeed = new Set(configs.map((c) => c.seed)).size > 1
  const cells: Array<ExpandedCell> = configs.map(({ label, config, seed, reference, exclusive }, index) => ({
    index,
    label,
    config,
    seed,
    reference,
    ...(exclusive ? { exclusive } : {}),
    axisValues: {
      ...Object.fromEntries(varying.map((key) => [key, config[key]])),
      ...(multiSeed ? { seed } : {})
    }
  }))

  const repeats = def.repeats ?? 1
  const declared = cells.flatMap((cell) => Array.from({ length: repeats }, (_, repeat) => ({ cell, repeat })))
  const order = def.order ?? "declared"
  const ordered = order === "declared" ? declared : shuffle(declared, order.randomized)
  const runs = def.measure?.sentinel ? withSentinels(ordered, cells, repeats, def.measure.sentinel, problems) : ordered
  return { expansion: { cells, runs, measure }, problems }
}

/** The sentinel cell before the first run, after every `every` runs and after the last; its
 * repeats are numbered after the grid's own so resume keeps them apart. */
const withSentinels = (
  runs: ReadonlyArray<PlannedRun>,
  cells: ReadonlyArray<ExpandedCell>,
  repeats: number,
  s: { readonly every: number; readonly cell?: string | number },
  problems: Array<ExpandProblem>
): ReadonlyArray<PlannedRun> => {
  const index = typeof s.cell === "string" ? cells.findIndex((c) => c.label === s.cell) : (s.cell ?? 0)
  const cell = cells[index]
  if (cell === undefined) {
    const labels = cells.map((c) => c.label).filter((l) => l !== null)
    problems.push({
      path: "measure.sentinel.cell",
      value: s.cell,
      expected: `a cell label (${labels.join(", ") || "none here"}) or an index below ${cells.length}`
    })
    return runs
  }
  const out: Array<PlannedRun> = []
  let occurrence = 0
  const sentinel = () => out.push({ cell, repeat: repeats + occurrence, sentinel: occurrence++ })
  sentinel()
  runs.forEach((run, i) => {
    out.push(run)
    if ((i + 1) % s.every === 0 || i === runs.length - 1) sentinel()
  })
  return out
}
