// The pure judgement of a rerun: prefix resolution, environment diff, loss trajectory, figures
// against a tolerance or CIs, and the verdict's exit code.
import { describe, expect, it } from "vitest"
import { compareFigure, compareLoss, decide, diffFields, resolvePrefix, type Match } from "../../src/rerun/compare.ts"

const run = (runId: string, cellHash: string, status = "succeeded", startedAt = "2026-11-24 10:00:00"): Match => ({
  runId,
  cellHash,
  status,
  startedAt,
  label: "lr=0.01"
})

describe("resolvePrefix", () => {
  const runs = [
    run("aaaa11-0000", "c0ffee01", "succeeded", "2026-11-24 10:00:00"),
    run("aaaa22-0000", "c0ffee01", "succeeded", "2026-11-24 11:00:00"),
    run("bbbb11-0000", "d00d0001", "failed")
  ]
  const matching = (p: string) => runs.filter((r) => r.runId.startsWith(p) || r.cellHash.startsWith(p))

  it("a unique run id prefix names that run", () => {
    expect(resolvePrefix("aaaa1", matching("aaaa1"))).toMatchObject({ _tag: "Run", run: { runId: "aaaa11-0000" }, via: "run id" })
  })
  it("a cell hash prefix names the cell's latest succeeded run", () => {
    expect(resolvePrefix("c0ff", matching("c0ff"))).toMatchObject({ _tag: "Run", run: { runId: "aaaa22-0000" }, via: "cell hash" })
  })
  it("an ambiguous prefix lists every candidate", () => {
    const r = resolvePrefix("aaaa", matching("aaaa"))
    expect(r._tag).toBe("Problem")
    const message = (r as { message: string }).message
    expect(message).toMatch(/"aaaa" is ambiguous: it starts 2 run id\(s\)/)
    expect(message).toContain("aaaa11-0")
    expect(message).toContain("aaaa22-0")
  })
  it("an unknown prefix says nothing matches", () => {
    expect(resolvePrefix("ffff", [])).toMatchObject({
      _tag: "Problem",
      message: expect.stringMatching(/no run id or cell hash .* starts with "ffff"/)
    })
  })
  it("a failed run is not a source to judge against", () => {
    expect(resolvePrefix("bbbb", matching("bbbb"))).toMatchObject({ _tag: "Problem", message: expect.stringContaining("ended failed") })
  })
  it("a prefix that starts both a run id and a cell hash is ambiguous", () => {
    const mixed = [run("abcd-run", "zz"), run("other", "abcd-cell")]
    expect(resolvePrefix("abcd", mixed)._tag).toBe("Problem")
  })
  it("refuses a prefix shorter than 4 characters even when it matches exactly one run", () => {
    const r = resolvePrefix("b", matching("b"))
    expect(r).toMatchObject({ _tag: "Problem", message: expect.stringContaining("give at least 4 characters") })
  })
})

describe("diffFields", () => {
  it("reports each changed field with both values and keeps the rest as same", () => {
    const d = diffFields({ python: "3.11.9", torch: "2.5.1", gpu_name: null }, { python: "3.12.1", torch: "2.5.1", gpu_name: null })
    expect(d.changed).toEqual([{ field: "python", before: "3.11.9", after: "3.12.1" }])
    expect(d.same).toEqual(["torch", "gpu_name"])
  })
  it("a fact present on one side only is a change", () => {
    expect(diffFields({}, { cudnn: "9.1" }).changed).toEqual([{ field: "cudnn", before: null, after: "9.1" }])
  })
})

describe("compareLoss", () => {
  const a = [
    { step: 0, loss: 11.9 },
    { step: 1, loss: 11.5 },
    { step: 2, loss: 11.1 }
  ]
  const nextUp = (x: number) => x + x * Number.EPSILON
  const exact = { exact: true, tolerance: 0.02, why: "deterministic", sameStepCount: true }

  it("identical doubles at every step reproduce in exact mode", () => {
    expect(
      compareLoss(
        a,
        a.map((s) => ({ ...s })),
        exact
      )
    ).toMatchObject({ status: "reproduced", detail: expect.stringContaining("3 steps bit-identical") })
  })
  it("one ULP off at one step fails exact mode and names the step", () => {
    const b = a.map((s) => (s.step === 1 ? { ...s, loss: nextUp(s.loss) } : s))
    const c = compareLoss(a, b, exact)
    expect(c.status).toBe("not reproduced")
    expect(c.detail).toContain("first difference at step 1")
  })
  it("the same ULP is within a relative tolerance", () => {
    const b = a.map((s) => ({ ...s, loss: nextUp(s.loss) }))
    expect(compareLoss(a, b, { ...exact, exact: false }).status).toBe("reproduced")
  })
  it("a 5% difference is outside a 2% tolerance", () => {
    const b = a.map((s) => ({ ...s, loss: s.loss * 1.05 }))
    expect(compareLoss(a, b, { ...exact, exact: false }).status).toBe("not reproduced")
  })
  it("a different step count fails when the window is counted in steps", () => {
    expect(compareLoss(a, a.slice(0, 2), exact)).toMatchObject({
      status: "not reproduced",
      detail: expect.stringContaining("step counts differ")
    })
    expect(compareLoss(a, a.slice(0, 2), { ...exact, sameStepCount: false }).status).toBe("reproduced")
  })
})

describe("compareFigure", () => {
  it("uses overlapping 95% CIs when both runs have them", () => {
    const before = { value: 100, ciLow: 98, ciHigh: 102 }
    expect(compareFigure("throughput", "tok/s", before, { value: 103, ciLow: 101, ciHigh: 105 }, 0.01, "").status).toBe("reproduced")
    expect(compareFigure("throughput", "tok/s", before, { value: 106, ciLow: 104, ciHigh: 108 }, 0.5, "").status).toBe("not reproduced")
  })
  it("judges neither way when either interval is noise (wider than ±25%), and names which", () => {
    // a CPU cell recorded on a busy machine, rerun on an idle one: CIs ±140% and ±52%
    const c = compareFigure(
      "throughput",
      "tok/s",
      { value: 123, ciLow: -48.9, ciHigh: 294.9 },
      { value: 779.9, ciLow: 376.8, ciHigh: 1183 },
      0.01,
      ""
    )
    expect(c.status).toBe("not judged")
    expect(c.detail).toBe("123.0 → 779.9 tok/s (+534%); 95% CI the original run's ±140% and the rerun's ±52% is noise (wider than ±25%)")
    // one noisy side is enough, whether the intervals overlap or not
    const tight = { value: 100, ciLow: 98, ciHigh: 102 }
    expect(compareFigure("throughput", "tok/s", tight, { value: 100, ciLow: 70, ciHigh: 130 }, 0.01, "")).toMatchObject({
      status: "not judged",
      detail: expect.stringContaining("the rerun's ±30% is noise")
    })
    expect(compareFigure("throughput", "tok/s", tight, { value: 200, ciLow: 140, ciHigh: 260 }, 0.01, "").status).toBe("not judged")
    // at the bound (±25%) it is still a measurement, judged by overlap
    expect(compareFigure("throughput", "tok/s", tight, { value: 110, ciLow: 82.5, ciHigh: 137.5 }, 0.01, "").status).toBe("reproduced")
    expect(compareFigure("throughput", "tok/s", tight, { value: 200, ciLow: 150, ciHigh: 250 }, 0.01, "").status).toBe("not reproduced")
  })
  it("falls back to the relative tolerance and says so", () => {
    const c = compareFigure("throughput", "tok/s", { value: 100 }, { value: 109 }, 0.1, "")
    expect(c).toMatchObject({ status: "reproduced", detail: expect.stringContaining("within ±10% (relative tolerance") })
    expect(compareFigure("throughput", "tok/s", { value: 100 }, { value: 111 }, 0.1, "").status).toBe("not reproduced")
  })
  it("is not judged when either run lacks the figure", () => {
    expect(compareFigure("energy", "J/token", { value: null }, { value: null }, 0.1, "no counter")).toMatchObject({
      status: "not judged",
      detail: "not measured in either run (no counter)"
    })
  })
})

describe("decide", () => {
  const pass = { name: "loss", status: "reproduced" as const, detail: "" }
  const fail = { name: "throughput", status: "not reproduced" as const, detail: "" }
  it("all checks passing in the same environment is reproduced, exit 0", () => {
    expect(decide({ environmentChanged: false, checks: [pass] })).toMatchObject({ verdict: "reproduced", exitCode: 0 })
  })
  it("a failing check in the same environment is not reproduced, exit 3", () => {
    expect(decide({ environmentChanged: false, checks: [pass, fail] })).toMatchObject({
      verdict: "not reproduced",
      exitCode: 3,
      note: "throughput not reproduced"
    })
  })
  it("a changed environment is its own verdict, exit 4, whatever the numbers", () => {
    expect(decide({ environmentChanged: true, checks: [pass] })).toMatchObject({ verdict: "environment changed", exitCode: 4 })
  })
})
