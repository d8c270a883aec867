// The fit frontier's search, pure: given the probe outcomes so far (value → fits or not), the next
// value to probe or the frontier. Values lie on a lattice (min, min + unit, …, max). It starts at a
// given value, doubles while probes fit and halves while they do not, then bisects between the
// largest value that fits and the smallest that does not. Memory grows with the micro-batch, so
// a value that fits above one that did not is a contradiction: reported, and the frontier stays
// below the smallest failure.

export interface Bounds {
  /** Smallest and largest values the search may probe, and the lattice step between values. */
  readonly min: number
  readonly max: number
  readonly unit: number
  /** First value to probe (snapped onto the lattice, within [min, max]). */
  readonly start: number
}

export type Next = { readonly probe: number } | { readonly done: true; readonly frontier: number | null; readonly reason: string }

/** The lattice value at or below v, within [min, max]. */
export const snap = (v: number, b: Bounds): number => {
  const k = Math.floor((Math.min(Math.max(v, b.min), b.max) - b.min) / b.unit)
  return b.min + k * b.unit
}

export const nextProbe = (outcomes: ReadonlyMap<number, boolean>, b: Bounds): Next => {
  const fits = [...outcomes].filter(([, ok]) => ok).map(([v]) => v)
  const fails = [...outcomes].filter(([, ok]) => !ok).map(([v]) => v)
  const lowestFail = fails.length > 0 ? Math.min(...fails) : null
  const below = lowestFail === null ? fits : fits.filter((v) => v < lowestFail)
  const highestFit = below.length > 0 ? Math.max(...below) : null
  const contradiction =
    lowestFail !== null && fits.some((v) => v > lowestFail)
      ? `; not monotone: ${fits.filter((v) => v > lowestFail!).join(", ")} fit above ${lowestFail}, which did not (the frontier stays below it)`
      : ""
  const done = (frontier: number | null, reason: string): Next => ({ done: true, frontier, reason: reason + contradiction })
  const untried = (v: number) => !outcomes.has(v)

  if (outcomes.size === 0) return { probe: snap(b.start, b) }
  if (highestFit === null) {
    // nothing fits yet: halve towards min
    if (lowestFail! <= b.min) return done(null, `not even the smallest value (${b.min}) fits`)
    const half = snap(Math.floor(lowestFail! / 2), b)
    const next = half < lowestFail! && untried(half) ? half : b.min
    return untried(next) ? { probe: next } : done(null, `not even the smallest value (${b.min}) fits`)
  }
  if (lowestFail === null) {
    // everything so far fits: double towards max
    if (highestFit >= b.max) return done(highestFit, `the upper bound (${b.max}) fits`)
    const next = snap(Math.min(2 * highestFit, b.max), b)
    const probe = next > highestFit ? next : snap(highestFit + b.unit, b)
    return probe > highestFit ? { probe } : done(highestFit, `the upper bound (${b.max}) fits`)
  }
  if (lowestFail - highestFit <= b.unit) return done(highestFit, `${highestFit} fits and ${lowestFail} does not`)
  const mid = snap(Math.floor((highestFit + lowestFail) / 2), b)
  return mid > highestFit && mid < lowestFail ? { probe: mid } : done(highestFit, `${highestFit} fits and ${lowestFail} does not`)
}

/** Run the search to its end against a probe function (for replaying recorded outcomes). */
export const search = (
  probe: (value: number) => boolean,
  b: Bounds
): { frontier: number | null; reason: string; probed: Array<number> } => {
  const outcomes = new Map<number, boolean>()
  for (;;) {
    const next = nextProbe(outcomes, b)
    if ("done" in next) return { frontier: next.frontier, reason: next.reason, probed: [...outcomes.keys()] }
    outcomes.set(next.probe, probe(next.probe))
  }
}
