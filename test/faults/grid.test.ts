// Bad grid files through the real CLI: each is refused with the file, the field and what was
// expected, before any Python process starts or any run is written. (Loader details are in
// test/grid/load.test.ts; these fill the gaps and check "before anything runs".)
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, fakePython, injected, query, tempDir } from "./harness.ts"

const dir = tempDir("bad-grids")
const base = `base: { model: "preset:tiny", device: "cpu", precision: "fp32" }`
const cases: Array<[string, string, RegExp]> = [
  ["syntax error", `export default { name: "s", axes: { r: [1, } }`, /syntax\.ts.*could not be loaded/s],
  ["wrong type", `export default { name: "w", ${base}, axes: { batchSize: [1, "2"] } }`, /axes\.batchSize\[1\].*Expected.*number.*got "2"/s],
  ["unknown axis", `export default { name: "u", ${base}, axes: { learning_rate: [1e-4] } }`, /axes\.learning_rate.*unknown field/s],
  ["empty axis", `export default { name: "e", ${base}, axes: { r: [] } }`, /axes\.r.*at least 1/s],
  ["duplicate cells", `export default { name: "d", ${base}, cells: [{ label: "a", r: 8 }, { label: "b", r: 8 }] }`, /cells\[1\].*different from cells\[0\].*identical/s],
  ["QLoRA on CPU", `export default { name: "q", ${base}, axes: { method: ["lora", "qlora"] } }`, /axes combination 1.*qlora needs a CUDA device/s],
  ["a grid that throws", `const rows = () => { throw new Error("cannot read sweep.csv") }\nexport default { name: "t", axes: { r: rows() } }`, /throws\.ts.*cannot read sweep\.csv/s],
  ["an Effect that fails", `import { Effect } from "effect"\nexport default Effect.fail(new Error("sweep service down"))`, /fails\.ts.*sweep service down/s]
]
const file = (label: string) => ({ "syntax error": "syntax", "a grid that throws": "throws", "an Effect that fails": "fails" } as Record<string, string>)[label] ?? label.replace(/\W+/g, "-")

describe("bad grid files are refused before anything runs", () => {
  for (const [label, source, expected] of cases) {
    it(`refuses ${label} with the file, field and what was expected`, async () => {
      const sub = tempDir("bad-grid")
      const grid = join(sub, `${file(label)}.ts`)
      writeFileSync(grid, source)
      const ledger = join(sub, "l.duckdb")
      const r = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], injected(sub))
      expect(r.exitCode).toBe(1)
      expect(r.stderr).toContain(grid)
      expect(r.stderr).toMatch(expected)
      expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/) // a message, not a stack trace
      expect(existsSync(join(sub, "python-calls.log")) ? readFileSync(join(sub, "python-calls.log"), "utf8") : "").toBe("")
      if (existsSync(ledger)) expect(await query(ledger, `SELECT count(*)::INT AS n FROM runs`)).toEqual([{ n: 0 }])
    }, 60_000)
  }

  it("refuses a data file that is not there, naming it, before any trainer starts", async () => {
    const grid = join(dir, "nodata.ts")
    writeFileSync(grid, `export default { name: "n", ${base}, axes: { dataset: ["file:data/missing rows.jsonl"] } }`)
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(dir, "l.duckdb"), "--python", fakePython], injected(dir))
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`error: dataset file not found: ${join(dir, "data/missing rows.jsonl")}`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(readFileSync(join(dir, "python-calls.log"), "utf8")).not.toContain("--spec") // only the environment probe ran
  }, 60_000)
})
