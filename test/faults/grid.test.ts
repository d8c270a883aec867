// Bad grid files and --set values through the real CLI: each is refused with the file, the field and
// what was expected, before any Python process starts or any run is written (non-finite numbers,
// seeds beyond the ledger's INTEGER column included). Labels with control characters run, and are
// printed escaped. (Loader details are in test/grid/load.test.ts; these fill the gaps and check
// "before anything runs".)
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, fakePython, injected, query, tempDir } from "./harness.ts"

describe("labels with control characters", () => {
  it("are printed escaped in progress lines and the Markdown report, and stored as given", async () => {
    const sub = tempDir("labels")
    const label = "evil\nline\u001b[31mred\u001b[0m\u202eright\u0007"
    const grid = join(sub, "g.ts")
    writeFileSync(
      grid,
      `export default { name: "labels", base: { model: "preset:tiny", device: "cpu", precision: "fp32" },
  cells: [{ label: ${JSON.stringify(label)}, r: 8 }], seeds: [1] }`
    )
    const ledger = join(sub, "l.duckdb")
    const r = await cli(
      ["run", grid, "--no-tui", "--sampler", "none", "--ledger", ledger, "--python", fakePython],
      injected(sub, { TUNEGRID_FAKE: "1:steps" })
    )
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const shown = "evil\\nline\\x1b[31mred\\x1b[0m\\u202eright\\x07"
    const report = await cli(["report", "--ledger", ledger])
    const markdown = await cli(["report", "--ledger", ledger, "--format", "md"])
    for (const out of [String(r.stdout), String(report.stdout), String(markdown.stdout)]) {
      expect(out).toContain(shown)
      expect(out).not.toMatch(/[\u001b\u0007\u202e]/)
    }
    // every Markdown table row is one line: the label's newline did not split its row
    const rows = String(markdown.stdout)
      .split("\n")
      .filter((l) => l.includes("evil"))
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(row).toMatch(/^\|.*\|$/)
    expect(await query(ledger, `SELECT label FROM cells`)).toEqual([{ label }])
  }, 120_000)
})

const dir = tempDir("bad-grids")
const base = `base: { model: "preset:tiny", device: "cpu", precision: "fp32" }`
const cases: Array<[string, string, RegExp]> = [
  ["syntax error", `export default { name: "s", axes: { r: [1, } }`, /syntax\.ts.*could not be loaded/s],
  [
    "wrong type",
    `export default { name: "w", ${base}, axes: { batchSize: [1, "2"] } }`,
    /axes\.batchSize\[1\].*Expected.*number.*got "2"/s
  ],
  ["unknown axis", `export default { name: "u", ${base}, axes: { learning_rate: [1e-4] } }`, /axes\.learning_rate.*unknown field/s],
  ["empty axis", `export default { name: "e", ${base}, axes: { r: [] } }`, /axes\.r.*at least 1/s],
  [
    "duplicate cells",
    `export default { name: "d", ${base}, cells: [{ label: "a", r: 8 }, { label: "b", r: 8 }] }`,
    /cells\[1\].*different from cells\[0\].*identical/s
  ],
  [
    "an infinite learning rate",
    `export default { name: "i", ${base}, axes: { learningRate: [1e-4, Infinity] } }`,
    /axes\.learningRate\[1\].*Expected a finite number, got Infinity/s
  ],
  [
    "a seed beyond the ledger's INTEGER column",
    `export default { name: "s", ${base}, seeds: [1, 3000000000] }`,
    /seeds\[1\].*less than or equal to 2147483647, got 3000000000/s
  ],
  [
    "QLoRA on CPU",
    `export default { name: "q", ${base}, axes: { method: ["lora", "qlora"] } }`,
    /axes combination 1.*qlora needs a CUDA device/s
  ],
  [
    "a grid that throws",
    `const rows = () => { throw new Error("cannot read sweep.csv") }\nexport default { name: "t", axes: { r: rows() } }`,
    /throws\.ts.*cannot read sweep\.csv/s
  ],
  [
    "an Effect that fails",
    `import { Effect } from "effect"\nexport default Effect.fail(new Error("sweep service down"))`,
    /fails\.ts.*sweep service down/s
  ],
  // what the trainer used to find 8–60 s into every cell, now refused up front in the grid's names
  [
    "an unknown preset",
    `export default { name: "p", base: { model: "preset:qwen-1.5b", device: "cpu", precision: "fp32" } }`,
    /base\.model: expected a known preset: preset:tiny, .* \(did you mean preset:qwen2\.5-1\.5b\?\); got "preset:qwen-1\.5b"/s
  ],
  [
    "tokensPerStep below accumulation × length",
    `export default { name: "k", ${base}, axes: { tokensPerStep: [2048, 100] } }`,
    /axes\.tokensPerStep\[1\]: expected at least gradientAccumulationSteps × maxSeqLength = 1 × 512 = 512.*got 100/s
  ],
  [
    "a local model folder that is not there",
    `export default { name: "m", base: { model: "local:models/none", device: "cpu", precision: "fp32" } }`,
    /base\.model: expected a model folder that exists \(no .*models\/none; local: paths resolve against the grid file's folder\)/s
  ],
  [
    "target modules that match nothing",
    `export default { name: "t", ${base}, cells: [{ targetModules: ["q_proj", "qkv_proj"] }] }`,
    /cells\[0\]\.targetModules: expected module names of preset:tiny \(qwen2\): .*q_proj.*"qkv_proj" matches none; got "qkv_proj"/s
  ],
  [
    "a near-miss field name",
    `export default { name: "n", base: { model: "preset:tiny", device: "cpu", precision: "fp32", learningrate: 1e-3 }, axes: { lr: [1e-3] } }`,
    /base\.learningrate: unknown field .*did you mean learningRate\?.*axes\.lr: unknown field .*did you mean learningRate\?/s
  ]
]
const file = (label: string) =>
  (({ "syntax error": "syntax", "a grid that throws": "throws", "an Effect that fails": "fails" }) as Record<string, string>)[label] ??
  label.replace(/\W+/g, "-")

describe("bad grid files are refused before anything runs", () => {
  for (const [label, source, expected] of cases) {
    it(`refuses ${label} with the file, field and what was expected`, async () => {
      const sub = tempDir("bad-grid")
      const grid = join(sub, `${file(label)}.ts`)
      writeFileSync(grid, source)
      const ledger = join(sub, "l.duckdb")
      const r = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython], injected(sub))
      expect(r.exitCode).toBe(2) // refused before any trainer started (src/cli/exit.ts)
      expect(r.stderr).toContain(grid)
      expect(r.stderr).toMatch(expected)
      expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/) // a message, not a stack trace
      expect(existsSync(join(sub, "python-calls.log")) ? readFileSync(join(sub, "python-calls.log"), "utf8") : "").toBe("")
      if (existsSync(ledger)) expect(await query(ledger, `SELECT count(*)::INT AS n FROM runs`)).toEqual([{ n: 0 }])
    }, 60_000)
  }

  it("refuses --set values that overflow to Infinity or beyond a ledger column, naming the override, and writes no grid row", async () => {
    for (const [set, expected] of [
      ["base.learningRate=1e400", /--set base\.learningRate=1e400: expected a finite number, got 1e400 \(Infinity once parsed/],
      ["base.batchSize=1e400", /--set base\.batchSize=1e400: expected a finite number, got 1e400 \(Infinity once parsed/],
      ["base.loraAlpha=-1e999", /--set base\.loraAlpha=-1e999: expected a finite number, got -1e999 \(-Infinity once parsed/],
      ["seeds=[1,1e400]", /--set seeds=\[1,1e400\]: expected a finite number/],
      ["seeds=[3000000000]", /seeds\[0\]: Expected a value less than or equal to 2147483647, got 3000000000/],
      ["repeats=3000000000", /repeats: Expected a value less than or equal to 2147483647, got 3000000000/]
    ] as const) {
      const sub = tempDir("bad-set")
      const grid = join(sub, "g.ts")
      writeFileSync(grid, `export default { name: "g", ${base}, seeds: [1] }`)
      const ledger = join(sub, "l.duckdb")
      const r = await cli(["run", grid, "--no-tui", "--ledger", ledger, "--python", fakePython, "--set", set], injected(sub))
      expect(r.exitCode, set).toBe(2) // refused before any trainer started
      expect(r.stderr, set).toMatch(expected)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(r.stderr).not.toMatch(/got null/)
      expect(existsSync(join(sub, "python-calls.log")) ? readFileSync(join(sub, "python-calls.log"), "utf8") : "").toBe("")
      if (existsSync(ledger))
        expect(
          await query(ledger, `SELECT (SELECT count(*) FROM grids)::INT AS grids, (SELECT count(*) FROM cells)::INT AS cells`)
        ).toEqual([{ grids: 0, cells: 0 }])
    }
  }, 120_000)

  it("refuses a data file that is not there, naming it, before any trainer starts", async () => {
    const grid = join(dir, "nodata.ts")
    writeFileSync(grid, `export default { name: "n", ${base}, axes: { dataset: ["file:data/missing rows.jsonl"] } }`)
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(dir, "l.duckdb"), "--python", fakePython], injected(dir))
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`error: dataset file not found: ${join(dir, "data/missing rows.jsonl")}`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(readFileSync(join(dir, "python-calls.log"), "utf8")).not.toContain("--spec") // only the environment probe ran
  }, 60_000)

  it.skipIf(existsSync("/dev/nvidia0"))(
    "refuses device cuda on a machine without a GPU after the environment probe, before any trainer starts",
    async () => {
      const sub = tempDir("no-gpu")
      const grid = join(sub, "cuda.ts")
      writeFileSync(
        grid,
        `export default { name: "c", base: { model: "preset:tiny", device: "cuda", precision: "bf16" }, axes: { r: [8, 16] } }`
      )
      const r = await cli(["run", grid, "--no-tui", "--ledger", join(sub, "l.duckdb"), "--python", fakePython], injected(sub))
      expect(r.exitCode).toBe(2)
      expect(r.stderr).toMatch(/base\.device: expected "auto" or "cpu": this machine has no GPU that torch can see/)
      expect(String(r.stderr).match(/base\.device/g)).toHaveLength(1) // one problem, not one per cell
      expect(readFileSync(join(sub, "python-calls.log"), "utf8")).not.toContain("--spec")
    },
    60_000
  )

  it("refuses a hub dataset when the trainer's Python lacks the datasets library, before any trainer starts", async () => {
    const sub = tempDir("no-datasets")
    const grid = join(sub, "hubdata.ts")
    writeFileSync(grid, `export default { name: "h", ${base}, axes: { dataset: ["synthetic", "hub:tatsu-lab/alpaca"] } }`)
    // the trainer's interpreter without datasets, whether or not this machine's has it
    const env = injected(sub, { TUNEGRID_INJECT_HIDE: "datasets" })
    const r = await cli(["run", grid, "--no-tui", "--ledger", join(sub, "l.duckdb"), "--python", fakePython], env)
    expect(r.exitCode, String(r.stderr)).toBe(2)
    expect(String(r.stderr)).toMatch(/axes\.dataset\[1\]: expected a dataset the trainer can load: "hub:…" needs the datasets library/)
    expect(readFileSync(join(sub, "python-calls.log"), "utf8")).not.toContain("--spec")
  }, 60_000)
})
