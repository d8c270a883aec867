// VRAM budgets: card names and sizes resolve to a cap (usable − the CUDA-context allowance), bad
// ones are rejected with what was expected, before anything runs; the spec carries the numbers.
import { describe, expect, it } from "vitest"
import { expandGrid } from "../../src/grid/expand.ts"
import { cards, parseSizeMib, resolveBudget, specBudget } from "../../src/vram/budget.ts"

describe("VRAM budgets", () => {
  it("resolves the cards of the table by name, however it is written", () => {
    expect(resolveBudget("rtx4060")).toEqual({ name: "RTX 4060 8 GB", usableMib: 8188, contextMib: 400, capMib: 7788 })
    expect(resolveBudget("RTX 4060")).toEqual(resolveBudget("rtx4060"))
    expect(resolveBudget("GeForce RTX 5060 Ti 16GB")).toMatchObject({ name: "RTX 5060 Ti 16 GB", usableMib: 16311 })
    for (const key of ["rtx4060", "rtx4060ti16gb", "rtx5060ti16gb", "rtx3090", "rtx4090"]) expect(cards.map((c) => c.key)).toContain(key)
  })

  it("takes sizes in MiB, GiB, MB and GB, with the default context allowance or a stated one", () => {
    expect(parseSizeMib("8GiB")).toBe(8192)
    expect(parseSizeMib("7800MiB")).toBe(7800)
    expect(parseSizeMib("8 GB")).toBeCloseTo(8e9 / 2 ** 20, 6)
    expect(resolveBudget("8GiB")).toEqual({ name: "8GiB", usableMib: 8192, contextMib: 400, capMib: 7792 })
    expect(resolveBudget({ usable: "16GiB", context: "1GiB" })).toMatchObject({ usableMib: 16384, contextMib: 1024, capMib: 15360 })
  })

  it("says what was expected for a name it does not know, one that names two cards, or a budget below its allowance", () => {
    expect(resolveBudget("gtx1080")).toMatch(/a card name \(rtx4060 \(RTX 4060 8 GB, 8188 MiB\).*a size like "8GiB"/)
    expect(resolveBudget("rtx4060ti")).toMatch(/one of rtx4060ti8gb, rtx4060ti16gb/)
    expect(resolveBudget("300MiB")).toMatch(/larger than its context allowance \(400 MiB\)/)
  })

  it("rejects a bad budget, a budget on the CPU and an invalid torchDtype while expanding, naming the cell", () => {
    const bad = expandGrid({ name: "g", base: { device: "cuda" }, cells: [{ label: "a", vramBudget: "rtx9999" }] }).problems
    expect(bad[0]).toMatchObject({ path: "cells[0]", value: { vramBudget: "rtx9999" } })
    expect(bad[0]!.expected).toMatch(/^vramBudget: a card name/)
    const cpu = expandGrid({ name: "g", base: { device: "cpu", vramBudget: "rtx4060" } }).problems
    expect(cpu[0]!.expected).toMatch(/vramBudget null on device cpu/)
    const qlora = expandGrid({ name: "g", base: { device: "cuda", method: "qlora", torchDtype: "bf16" } }).problems
    expect(qlora[0]!.expected).toMatch(/torchDtype null or "fp32" for method qlora/)
    const fp32 = expandGrid({ name: "g", base: { torchDtype: "fp16", precision: "fp32" } }).problems
    expect(fp32[0]!.expected).toMatch(/a 16-bit base needs autocast/)
  })

  it("refuses a budget on a trainer whose loop does not report memory, naming the field", () => {
    const hf = expandGrid({ name: "g", base: { device: "cuda", trainer: "hf", vramBudget: "rtx4060" } }).problems
    expect(hf.map((p) => [p.path, p.expected])).toEqual([
      ["axes combination 0: vramBudget", expect.stringMatching(/^a value trainer "hf" can honour: the budget's memory report/)]
    ])
  })

  it("puts the resolved numbers in the trainer's spec, and nothing without a budget", () => {
    expect(specBudget("rtx4060")).toEqual({ name: "RTX 4060 8 GB", usable_mib: 8188, context_mib: 400, cap_mib: 7788 })
    expect(specBudget(null)).toBeNull()
  })
})
