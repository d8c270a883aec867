// The seed documents' grids against the documents: the RTX 4060 study's three cells field by field
// against its Table 1 (and Table 2, §4.4–4.5, §5.1), copied verbatim below; the playbook's and the
// guide's configurations as their code gives them; all three plan offline on presets.
import { Effect } from "effect"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { hashCell } from "../../src/cells.ts"
import { expandGrid } from "../../src/grid/expand.ts"
import { loadGrid } from "../../src/grid/load.ts"

const experiments = resolve(import.meta.dirname, "../../experiments")
const offline = ["base.dataset=synthetic", "base.tokenizer=qwen-offline"]

// seeds/000, Table 1 and Table 2, verbatim (tab-separated as extracted).
const table1 = `Run	Backend/Optimizer	BS	Prec.	Wall Time (s)	Tokens Proc.	Tok/s	T_{10k} (s)
1	bnb / AdamW (torch)	1	fp16	3494	1,717,908	500.3	19.99
2	bnb / PagedAdamW	2	fp16	972.6	573,206	628.1	15.93
3	bnb / PagedAdamW	2	bf16	1651.4	573,206	360.2	27.76`
const table2 = `Run	VRAM Peak (MB)	J/token (95W)	E10k (95W)	J/token (115W)	E10k (115W)
1	6234	0.19	1,900	0.23	2,298
2	8062	0.151	1,513	0.183	1,832
3	7949	0.264	2,640	0.319	3,193`
// §5.1: sequence length and steps per run; §4.4: "AdamW (PyTorch) vs. PagedAdamW (8-bit, memory-efficient)".
const section51 = { 1: { S: 512, steps: 10500 }, 2: { S: 2048, steps: 1750 }, 3: { S: 1024, steps: 1750 } } as const
const optimizers: Record<string, string> = { "bnb / AdamW (torch)": "adamw_torch", "bnb / PagedAdamW": "paged_adamw_8bit" }

const rows = (table: string) =>
  table
    .split("\n")
    .slice(1)
    .map((line) => line.split("\t"))
const num = (text: string) => Number(text.replaceAll(",", ""))

const load = (file: string, overrides: Array<string>) => Effect.runPromise(loadGrid(resolve(experiments, file), overrides))

describe("the RTX 4060 study as a grid (experiments/paper-rtx4060.ts)", () => {
  it("has each of Table 1's runs, field by field, under every base-weight reading", async () => {
    const grid = await load("paper-rtx4060.ts", [])
    expect(grid.expansion.measure.warmup).toEqual({ seconds: 60 }) // §4.5 "a 60 s warmup period"
    const t2 = new Map(rows(table2).map((r) => [r[0], r]))
    for (const [run, backend, bs, precision, wall, tokens, tokS, t10k] of rows(table1)) {
      const cells = grid.expansion.cells.filter((c) => c.label?.startsWith(`run${run}-`))
      // the three readings of "bnb with 16-bit adapters": 4-bit QLoRA, 16-bit LoRA, fp32 LoRA under autocast
      expect(cells.map((c) => `${c.config.method}/${c.config.torchDtype}`).sort()).toEqual(["lora/fp32", "lora/null", "qlora/null"])
      const { S, steps } = section51[Number(run) as 1 | 2 | 3]
      const [, vram, j95, , j115] = t2.get(run!)!
      for (const cell of cells) {
        const c = cell.config
        expect(c.optim).toBe(optimizers[backend!])
        expect(c.batchSize).toBe(Number(bs))
        expect(c.precision).toBe(precision)
        expect(c.maxSeqLength).toBe(S)
        if (c.method === "qlora") expect(c.bnb4bitComputeDtype).toBe(precision)
        expect([c.gradientAccumulationSteps, c.gradientCheckpointing, cell.seed]).toEqual([1, true, 42])
        expect([c.model, c.datasetSamples, c.padding]).toEqual(["hub:Qwen/Qwen2.5-1.5B-Instruct", 5000, "dynamic"])
        const ref = cell.reference!
        expect([ref.wallS, ref.tokens, ref.tokS, ref.t10kS]).toEqual([num(wall!), num(tokens!), num(tokS!), num(t10k!)])
        expect([ref.steps, ref.warmupS]).toEqual([steps, 60])
        expect(ref.vramPeak).toMatchObject({ value: num(vram!), unit: "MB" })
        expect(ref.jPerToken?.map((e) => [e.value, e.watts])).toEqual([
          [num(j95!), 95],
          [num(j115!), 115]
        ])
      }
    }
  })

  it("plans the nine cells offline on the 1.5B preset, and with the levers", async () => {
    const grid = await load("paper-rtx4060.ts", ["base.model=preset:qwen2.5-1.5b", ...offline])
    expect(grid.expansion.cells).toHaveLength(9)
    expect(new Set(grid.expansion.cells.map((c) => c.config.model))).toEqual(new Set(["preset:qwen2.5-1.5b"]))
    const levers = await load("paper-rtx4060-levers.ts", ["base.model=preset:qwen2.5-1.5b", ...offline])
    expect(levers.expansion.cells.map((c) => c.config.tokensPerStep)).toEqual([512, 512, 512, 4096, 4096, 4096, 2048, 2048, 2048])
    expect(levers.expansion.cells.every((c) => c.reference === null)).toBe(true)
  })
})

describe("the playbook and the guide as grids", () => {
  it("playbook-5060ti: Llama 3.1 8B nf4 + double quant, r64/a128 and r128/a256 on all seven projections, 4 × 2048 × 4", async () => {
    const grid = await load("playbook-5060ti.ts", ["base.model=preset:llama-3.1-8b", "base.template=alpaca", ...offline])
    expect(grid.expansion.cells.map((c) => [c.label, c.config.r, c.config.loraAlpha])).toEqual([
      ["r64", 64, 128],
      ["r128", 128, 256]
    ])
    const c = grid.expansion.cells[0]!.config
    expect(c.targetModules).toEqual(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    expect([c.method, c.bnb4bitQuantType, c.bnb4bitUseDoubleQuant, c.bnb4bitComputeDtype, c.precision]).toEqual([
      "qlora",
      "nf4",
      true,
      "bf16",
      "bf16"
    ])
    expect([c.optim, c.batchSize, c.gradientAccumulationSteps, c.maxSeqLength, c.loraDropout]).toEqual([
      "paged_adamw_8bit",
      4,
      4,
      2048,
      0.05
    ])
    expect([c.learningRate, c.warmupSteps, c.lrSchedulerType, c.gradientCheckpointing, c.torchDtype]).toEqual([
      2e-4,
      100,
      "constant",
      true,
      "fp32"
    ])
    expect(grid.expansion.cells[0]!.reference?.vramPeak).toMatchObject({ value: 12, unit: "GB" })
  })

  it("peft-guide-24gb: Llama-3-8B r16/a32 on q/k/v/o, 2 × 4, fp16, fp4 as written and nf4 + double quant, on a 24 GB budget", async () => {
    const grid = await load("peft-guide-24gb.ts", ["base.model=preset:llama-3.1-8b", ...offline])
    expect(grid.expansion.cells.map((c) => [c.config.bnb4bitQuantType, c.config.bnb4bitUseDoubleQuant])).toEqual([
      ["fp4", false],
      ["nf4", true]
    ])
    const c = grid.expansion.cells[0]!.config
    expect([c.r, c.loraAlpha, c.targetModules, c.batchSize, c.gradientAccumulationSteps]).toEqual([
      16,
      32,
      ["q_proj", "k_proj", "v_proj", "o_proj"],
      2,
      4
    ])
    expect([c.precision, c.bnb4bitComputeDtype, c.learningRate, c.maxSeqLength, c.vramBudget]).toEqual([
      "fp16",
      "bf16",
      2e-4,
      1024,
      "rtx4090"
    ])
  })
})

describe("references", () => {
  it("ride with the grid and not in the cell hash: correcting a published figure re-measures nothing", () => {
    const cell = (tokS: number) => {
      const { expansion } = expandGrid({ name: "g", cells: [{ label: "a", reference: { source: "paper", tokS } }] })
      return { hashed: hashCell(expansion.cells[0]!, expansion.measure, "trainer", "data"), reference: expansion.cells[0]!.reference }
    }
    expect(cell(500.3).hashed.cellHash).toBe(cell(491.7).hashed.cellHash)
    expect(cell(491.7).reference).toEqual({ source: "paper", tokS: 491.7 })
  })
})
