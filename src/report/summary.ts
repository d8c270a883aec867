// The report's closing lines, as hyperfine ends its output: within each grid and environment,
// how many times faster the fastest cell ran than each other one, with the 95% interval carried
// from both cells' intervals, and a word when that interval includes 1. Pure.
import { ratioOf } from "./noise.ts"

export interface SummaryCell {
  readonly grid: string
  readonly envHash: string
  readonly cell: string
  readonly tokS: number | null
  readonly tokSCiRel: number | null
}

export interface Comparison {
  readonly grid: string
  readonly faster: string
  readonly slower: string
  readonly ratio: number
  readonly ciLow: number | null
  readonly ciHigh: number | null
}

/** Fastest vs every other measured cell of the same grid and environment, slowest last. */
export const comparisons = (cells: ReadonlyArray<SummaryCell>): Array<Comparison> => {
  const groups = new Map<string, Array<SummaryCell & { tokS: number }>>()
  for (const c of cells) {
    if (c.tokS === null || !(c.tokS > 0)) continue
    const key = `${c.grid}\u0000${c.envHash}`
    groups.set(key, [...(groups.get(key) ?? []), c as SummaryCell & { tokS: number }])
  }
  return [...groups.values()].flatMap((group) => {
    const sorted = [...group].sort((a, b) => b.tokS - a.tokS)
    const best = sorted[0]!
    return sorted.slice(1).map((other) => {
      const r = ratioOf(best.tokS, best.tokSCiRel, other.tokS, other.tokSCiRel)
      return {
        grid: best.grid,
        faster: best.cell,
        slower: other.cell,
        ratio: r.ratio,
        ciLow: r.half === null ? null : Math.max(0, r.ratio - r.half),
        ciHigh: r.half === null ? null : r.ratio + r.half
      }
    })
  })
}

const times = (c: Comparison): string => {
  const half = c.ciHigh === null ? null : c.ciHigh - c.ratio
  const value = `${c.ratio.toFixed(2)}${half === null ? "" : ` ± ${half.toFixed(2)}`} ×`
  const note = c.ciLow === null ? " (no interval)" : c.ciLow <= 1 ? " (the interval includes 1: not a measured difference)" : ""
  return `${value} faster than ${c.slower}${note}`
}

/** "X ran\n  1.54 ± 0.05 × faster than Y\n  …" per grid, at most `limit` lines per grid. */
export const summaryLines = (list: ReadonlyArray<Comparison>, limit = 5): Array<string> => {
  const byFaster = new Map<string, Array<Comparison>>()
  for (const c of list) byFaster.set(`${c.grid}\u0000${c.faster}`, [...(byFaster.get(`${c.grid}\u0000${c.faster}`) ?? []), c])
  return [...byFaster.values()].flatMap((group) => {
    const first = group[0]!
    const shown = group.slice(0, limit)
    return [
      `${first.grid}: ${first.faster} ran`,
      ...shown.map((c) => `  ${times(c)}`),
      ...(group.length > shown.length ? [`  … and ${group.length - shown.length} more (tunegrid report --format md lists them all)`] : [])
    ]
  })
}
