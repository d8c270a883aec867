// How a run ended, decided from what the trainer said last and how its process exited. Pure,
// shared by live runs and ingest so both record the same status for the same evidence.
import type { RunEnd } from "../ledger/records.ts"

export type StopCause = "skip" | "interrupt" | null

export interface Evidence {
  readonly terminal:
    | { readonly event: "finished"; readonly reason: string }
    | {
      readonly event: "failed"; readonly kind: string; readonly message: string; readonly detail: string | null
      /** The step it failed at and the memory in use then (MiB), when the trainer knew them. */
      readonly step?: number | null; readonly memoryMib?: number | null
    }
    | null
  readonly protocolError: string | null
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stderrTail: string
  readonly stopCause: StopCause
  readonly endedAt: number
  /** Seconds without a trainer event after which the runner killed it (the stall timeout). */
  readonly stalledAfterS?: number | null
  /** Why the sampler stopped before the trainer did (energy and device memory then missing). */
  readonly samplerError?: string | null
}

export const decideOutcome = (e: Evidence): RunEnd => {
  const base = {
    endedAt: e.endedAt,
    exitCode: e.exitCode,
    exitSignal: e.signal,
    stderrTail: e.stderrTail || null,
    finishReason: null,
    errorKind: null,
    errorMessage: null,
    errorDetail: null,
    errorStep: null,
    errorMemoryMib: null,
    samplerError: e.samplerError ?? null
  } as const
  if (e.protocolError !== null) {
    return { ...base, status: "failed", errorKind: "protocol", errorMessage: e.protocolError }
  }
  if (e.terminal?.event === "failed") {
    return {
      ...base, status: "failed", errorKind: e.terminal.kind, errorMessage: e.terminal.message, errorDetail: e.terminal.detail,
      errorStep: e.terminal.step ?? null, errorMemoryMib: e.terminal.memoryMib ?? null
    }
  }
  if (e.terminal?.event === "finished") {
    const status = e.stopCause === "skip" ? "skipped" : e.stopCause === "interrupt" ? "interrupted" : "succeeded"
    return { ...base, status, finishReason: e.terminal.reason }
  }
  if (e.stalledAfterS != null) {
    return {
      ...base,
      status: "failed",
      errorKind: "stalled",
      errorMessage: `the trainer sent no event for ${e.stalledAfterS} s (stall timeout; change it with --stall-timeout) and was killed`
    }
  }
  if (e.stopCause !== null) {
    return { ...base, status: e.stopCause === "skip" ? "skipped" : "interrupted", errorMessage: "stopped before the trainer finished" }
  }
  if (e.signal === "SIGINT" || e.exitCode === 130) {
    // Ctrl-C in a terminal reaches the whole process group: the trainer may see it first.
    return { ...base, status: "interrupted", errorMessage: "the trainer was interrupted (SIGINT) before it finished" }
  }
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.exitCode}`
  return {
    ...base,
    status: "failed",
    errorKind: "crash",
    errorMessage: `the trainer ${how} without reporting why${e.stderrTail ? "; last stderr lines below" : ""}`
  }
}

export const tail = (text: string, lines = 20): string => text.trimEnd().split("\n").slice(-lines).join("\n")
