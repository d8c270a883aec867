// A bar chart with 95% error bars as a standalone SVG string: the study's figures (throughput,
// seconds per 10k tokens, J/token), one bar per configuration. Pure: data in, text out.

export interface Bar {
  readonly label: string
  readonly value: number | null
  readonly low: number | null
  readonly high: number | null
  /** Runs behind the bar (n = 1 has no error bar). */
  readonly n: number
}

export interface BarChart {
  readonly title: string
  readonly yLabel: string
  readonly bars: ReadonlyArray<Bar>
  /** Shown instead of bars when no bar has a value (e.g. no energy counter on a CPU ledger). */
  readonly emptyNote: string
}

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** A "nice" axis maximum (1, 2, 2.5 or 5 × 10^k) at or above the largest value. */
export const niceMax = (max: number): number => {
  if (!(max > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= max)!
}

const tick = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))))

export const barChart = (c: BarChart): string => {
  const width = Math.max(480, 90 + c.bars.length * 90)
  const height = 360
  const left = 70, right = 20, top = 40, bottom = 110
  const plotW = width - left - right
  const plotH = height - top - bottom
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`
  ]
  const values = c.bars.flatMap((b) => [b.value, b.high]).filter((v): v is number => typeof v === "number" && Number.isFinite(v))
  if (values.length === 0) {
    parts.push(`<text x="${width / 2}" y="${top + plotH / 2}" text-anchor="middle" fill="#666">${esc(c.emptyNote)}</text>`, `</svg>`)
    return parts.join("\n")
  }
  const yMax = niceMax(Math.max(...values))
  const y = (v: number) => top + plotH - (Math.max(0, v) / yMax) * plotH
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${tick(v)}</text>`)
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="black"/>`)
  const slot = plotW / Math.max(1, c.bars.length)
  c.bars.forEach((b, i) => {
    const cx = left + slot * (i + 0.5)
    const w = Math.min(50, slot * 0.6)
    parts.push(`<g class="bar" data-label="${esc(b.label)}" data-value="${b.value ?? ""}">`)
    if (b.value !== null) {
      parts.push(`<rect x="${cx - w / 2}" y="${y(b.value)}" width="${w}" height="${top + plotH - y(b.value)}" fill="#4c78a8"/>`,
        `<text x="${cx}" y="${y(b.value) - 4}" text-anchor="middle" font-size="10">${tick(b.value)}</text>`)
    } else {
      parts.push(`<text x="${cx}" y="${top + plotH - 4}" text-anchor="middle" fill="#666">n/a</text>`)
    }
    if (b.low !== null && b.high !== null && b.n > 1) {
      parts.push(`<g class="errorbar" stroke="black"><line x1="${cx}" x2="${cx}" y1="${y(b.low)}" y2="${y(b.high)}"/>`,
        `<line x1="${cx - 6}" x2="${cx + 6}" y1="${y(b.low)}" y2="${y(b.low)}"/><line x1="${cx - 6}" x2="${cx + 6}" y1="${y(b.high)}" y2="${y(b.high)}"/></g>`)
    }
    parts.push(`<text transform="translate(${cx} ${top + plotH + 12}) rotate(35)" font-size="10">${esc(b.label.length > 40 ? b.label.slice(0, 39) + "…" : b.label)} (n=${b.n})</text>`, `</g>`)
  })
  parts.push(`<text x="${width - right}" y="${height - 6}" text-anchor="end" font-size="10" fill="#666">error bars: 95% t-interval of the mean over runs (none for n = 1)</text>`, `</svg>`)
  return parts.join("\n")
}
