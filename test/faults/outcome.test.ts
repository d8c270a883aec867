// How a run ends, from the evidence of its processes (pure): stalls, a dead sampler, a trainer
// that saw Ctrl-C first, and a failure's step and memory carried to the ledger row.
import { describe, expect, it } from "vitest"
import { decideOutcome, type Evidence } from "../../src/trainer/outcome.ts"

const evidence = (over: Partial<Evidence>): Evidence => ({
  terminal: null,
  protocolError: null,
  exitCode: 0,
  signal: null,
  stderrTail: "",
  stopCause: null,
  endedAt: 1,
  ...over
})

describe("decideOutcome for faults", () => {
  it("records a stall as failed: stalled with the timeout that fired", () => {
    const end = decideOutcome(evidence({ stalledAfterS: 600, signal: "SIGKILL", exitCode: null }))
    expect(end).toMatchObject({ status: "failed", errorKind: "stalled", exitSignal: "SIGKILL" })
    expect(end.errorMessage).toMatch(/no event for 600 s .*--stall-timeout/)
  })

  it("a finished trainer wins over a stall noticed while it exited", () => {
    expect(decideOutcome(evidence({ stalledAfterS: 5, terminal: { event: "finished", reason: "window_complete" } })).status).toBe(
      "succeeded"
    )
  })

  it("keeps a run whose sampler died and carries the reason", () => {
    const end = decideOutcome(
      evidence({ terminal: { event: "finished", reason: "window_complete" }, samplerError: "the sampler was killed by SIGKILL" })
    )
    expect(end).toMatchObject({ status: "succeeded", samplerError: "the sampler was killed by SIGKILL" })
  })

  it("treats a trainer that died of SIGINT (Ctrl-C reached it first) as interrupted, not crashed", () => {
    expect(decideOutcome(evidence({ exitCode: 130 })).status).toBe("interrupted")
    expect(decideOutcome(evidence({ exitCode: null, signal: "SIGINT" })).status).toBe("interrupted")
    expect(decideOutcome(evidence({ exitCode: null, signal: "SIGTERM" })).errorKind).toBe("crash")
  })

  it("treats a trainer that died of SIGHUP (its terminal closed, the runner stopping too) as interrupted, not crashed", () => {
    expect(decideOutcome(evidence({ exitCode: null, signal: "SIGHUP" }))).toMatchObject({ status: "interrupted", errorKind: null })
  })

  it("carries a failure's step and memory at failure", () => {
    const end = decideOutcome(
      evidence({ exitCode: 3, terminal: { event: "failed", kind: "oom", message: "m", detail: null, step: 12, memoryMib: 7012.5 } })
    )
    expect(end).toMatchObject({ status: "failed", errorKind: "oom", errorStep: 12, errorMemoryMib: 7012.5 })
  })
})
