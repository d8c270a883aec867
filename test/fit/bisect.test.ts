// The fit frontier's search on recorded probe outcomes: peaks the trainer's probes recorded, the
// searches they drive (values probed, frontier, reason), and the edges (nothing fits, the bound
// fits, a contradiction, a token lattice).
import { describe, expect, it } from "vitest"
import { nextProbe, search, snap, type Bounds } from "../../src/fit/bisect.ts"

// torch peak allocated (MiB) of probes of the tiny preset on 64-token samples, recorded by the
// trainer under the test allocator (test/fixtures/fake-allocator): batchSize → peak
const tinyPeaks = new Map([
  [1, 149.14],
  [2, 260.82],
  [3, 372.5],
  [4, 484.17],
  [5, 595.85],
  [6, 707.52],
  [8, 930.88],
  [12, 1377.58],
  [16, 1824.29]
])
const peak = (b: number) => {
  const mib = tinyPeaks.get(b)
  if (mib === undefined) throw new Error(`no recorded probe at batchSize ${b}`)
  return mib
}
const batch = (start: number, max = 256): Bounds => ({ min: 1, max, unit: 1, start })

describe("nextProbe / search", () => {
  it("doubles from the start while probes fit, then bisects to the largest that fits under the cap and headroom", () => {
    const cap = 420 // MiB, headroom 5%: 399 MiB usable by the peak
    const r = search((b) => peak(b) <= 0.95 * cap, batch(1))
    expect(r).toEqual({ frontier: 3, reason: "3 fits and 4 does not", probed: [1, 2, 4, 3] })
  })

  it("halves from a start that does not fit", () => {
    const r = search((b) => peak(b) <= 0.95 * 300, batch(8))
    expect(r.probed).toEqual([8, 4, 2, 3])
    expect(r.frontier).toBe(2)
  })

  it("finds a larger frontier on the same recordings under a larger cap", () => {
    const r = search((b) => peak(b) <= 0.95 * 700, batch(2)) // 665 MiB: 5 (596) fits, 6 (708) does not
    expect(r).toEqual({ frontier: 5, reason: "5 fits and 6 does not", probed: [2, 4, 8, 6, 5] })
  })

  it("bisects a long range in logarithmically many probes", () => {
    const r = search((b) => b <= 37, batch(1))
    expect(r.frontier).toBe(37)
    expect(r.probed).toEqual([1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37])
  })

  it("reports when not even the smallest fits, and when the upper bound fits", () => {
    expect(search(() => false, batch(4))).toEqual({ frontier: null, reason: "not even the smallest value (1) fits", probed: [4, 2, 1] })
    expect(search(() => true, batch(1, 16))).toEqual({ frontier: 16, reason: "the upper bound (16) fits", probed: [1, 2, 4, 8, 16] })
  })

  it("keeps the frontier below the smallest failure when a larger value fits, and says so", () => {
    const outcomes = new Map([
      [2, true],
      [4, false],
      [8, true],
      [3, true]
    ])
    const next = nextProbe(outcomes, batch(2))
    expect(next).toEqual({
      done: true,
      frontier: 3,
      reason: "3 fits and 4 does not; not monotone: 8 fit above 4, which did not (the frontier stays below it)"
    })
  })

  it("searches tokens per step on a lattice from accumulation × sequence length", () => {
    const b: Bounds = { min: 2048, max: 65536, unit: 256, start: 4096 }
    expect(snap(5000, b)).toBe(4864)
    const r = search((t) => t <= 11_000, b)
    expect(r.frontier).toBe(10_752) // the lattice value at or below 11,000: 2048 + 34 × 256
    expect(r.probed.every((t) => (t - 2048) % 256 === 0)).toBe(true)
  })
})
