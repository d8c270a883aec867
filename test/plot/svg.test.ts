// The SVG bar chart: one bar per configuration, error bars only where there is spread, and a note
// instead of bars when nothing was measured.
import { describe, expect, it } from "vitest"
import { barChart, niceMax } from "../../src/plot/svg.ts"

describe("barChart", () => {
  it("draws one bar per configuration and error bars only for n > 1", () => {
    const svg = barChart({
      title: "Throughput", yLabel: "tokens / s", emptyNote: "none",
      bars: [
        { label: "bs=1 <fp16>", value: 120, low: 110, high: 130, n: 3 },
        { label: "bs=4", value: 300, low: null, high: null, n: 1 }
      ]
    })
    expect(svg.startsWith("<svg")).toBe(true)
    expect(svg.match(/<g class="bar"/g)).toHaveLength(2)
    expect(svg.match(/class="errorbar"/g)).toHaveLength(1)
    expect(svg).toContain("bs=1 &lt;fp16&gt; (n=3)")
    expect(svg).toContain('data-value="300"')
  })
  it("says why there are no bars when no value was measured", () => {
    const svg = barChart({ title: "J/token", yLabel: "J", emptyNote: "energy not measured", bars: [{ label: "a", value: null, low: null, high: null, n: 2 }] })
    expect(svg).toContain("energy not measured")
    expect(svg).not.toContain('class="bar"')
  })
  it("rounds the axis up to a nice maximum", () => {
    expect([niceMax(0.7), niceMax(130), niceMax(2400), niceMax(0)]).toEqual([1, 200, 2500, 1])
  })
})
