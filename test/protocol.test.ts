import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeSamplerLine, decodeTrainerLine } from "../src/protocol.ts"
import { started } from "./tui/events.ts"

const step = {
  event: "step",
  t: 1,
  step: 0,
  t_start: 0.5,
  t_end: 1,
  tokens: 100,
  padded_tokens: 128,
  samples: 2,
  loss: 2.5,
  lr: 1e-3,
  grad_norm: null,
  mem_allocated_mib: null,
  mem_reserved_mib: null,
  mem_peak_allocated_mib: null,
  mem_peak_reserved_mib: null,
  phase: "warmup"
}

describe("protocol decoding", () => {
  it("decodes a step event", () => {
    const r = decodeTrainerLine(JSON.stringify(step))
    expect(Result.isSuccess(r) && r.success.event === "step" && r.success.tokens).toBe(100)
  })

  it("decodes the trainer's CI in a step event, null before it has one, and a step without it (older trainers)", () => {
    const ci = (line: object) => {
      const r = decodeTrainerLine(JSON.stringify(line))
      return Result.isSuccess(r) && r.success.event === "step" ? r.success.ci_half_rel : "failed"
    }
    expect(ci({ ...step, ci_half_rel: 0.031 })).toBe(0.031)
    expect(ci({ ...step, ci_half_rel: null })).toBeNull()
    expect(ci(step)).toBeUndefined()
    expect(ci({ ...step, ci_half_rel: "wide" })).toBe("failed")
  })

  it("decodes a started event's data facts with token_ids_sha256, and with `digest` as trainers before #19 sent it", () => {
    const run = started("1/1", 0)
    const event = run.type === "trainer" && run.event.event === "started" ? run.event : expect.unreachable()
    const { token_ids_sha256: sha, ...rest } = event.data as { token_ids_sha256: string }
    expect(Result.isSuccess(decodeTrainerLine(JSON.stringify(event)))).toBe(true)
    expect(Result.isSuccess(decodeTrainerLine(JSON.stringify({ ...event, data: { ...rest, digest: sha } })))).toBe(true)
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify({ ...event, data: rest })))).toBe(true)
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify({ ...event, data: { ...rest, digest: sha, token_ids_sha256: sha } })))).toBe(
      true
    )
  })

  it("decodes a started event's start-up timings, null, or none (trainers before #21); not a non-number phase", () => {
    const run = started("1/1", 0)
    const event = run.type === "trainer" && run.event.event === "started" ? run.event : expect.unreachable()
    const timings = (line: object) => {
      const r = decodeTrainerLine(JSON.stringify(line))
      return Result.isSuccess(r) && r.success.event === "started" ? r.success.timings : "failed"
    }
    expect(timings({ ...event, timings: { imports: 5.2, model: 1.5 } })).toEqual({ imports: 5.2, model: 1.5 })
    expect(timings({ ...event, timings: null })).toBeNull()
    expect(timings(event)).toBeUndefined()
    expect(timings({ ...event, timings: { imports: "slow" } })).toBe("failed")
  })

  it("rejects a line that is not JSON, naming the problem", () => {
    const r = decodeTrainerLine("loading checkpoint shards: 50%")
    expect(Result.isFailure(r) && r.failure).toMatch(/JSON/)
  })

  it("rejects unknown fields, missing fields and unknown event kinds", () => {
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify({ ...step, extra: 1 })))).toBe(true)
    const { loss: _loss, ...noLoss } = step
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify(noLoss)))).toBe(true)
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify({ event: "progress", t: 1 })))).toBe(true)
  })

  it("decodes failures with their kind and rejects unknown kinds", () => {
    const failed = { event: "failed", t: 1, kind: "oom", message: "CUDA out of memory", step: 3, memory_mib: 7800, detail: null }
    expect(Result.isSuccess(decodeTrainerLine(JSON.stringify(failed)))).toBe(true)
    expect(Result.isFailure(decodeTrainerLine(JSON.stringify({ ...failed, kind: "tired" })))).toBe(true)
  })

  it("decodes sampler samples with missing GPU readings as null", () => {
    const sample = {
      event: "sample",
      t: 1,
      energy_mj: null,
      power_w: null,
      mem_used_mib: null,
      util_pct: null,
      sm_clock_mhz: null,
      temp_c: null,
      throttle: null,
      host_rss_mib: 100,
      host_cpu_pct: 50
    }
    expect(Result.isSuccess(decodeSamplerLine(JSON.stringify(sample)))).toBe(true)
    expect(Result.isFailure(decodeSamplerLine(JSON.stringify({ ...sample, power_w: "n/a" })))).toBe(true)
  })
})
