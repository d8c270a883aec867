// How a run ended, decided from what the trainer said last and how its process exited. Pure,
// shared by live runs and ingest so both record the same status for the same evidence (plus
// reading the bounded tail of a stderr file, which both keep with the run).
import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import type { RunEnd } from "../ledger/records.ts"
import type { TrainerEvent } from "../protocol.ts"

export type StopCause = "skip" | "interrupt" | null

export interface Evidence {
  readonly terminal:
    | { readonly event: "finished"; readonly reason: string }
    | {
        readonly event: "failed"
        readonly kind: string
        readonly message: string
        readonly detail: string | null
        /** The step it failed at and the memory in use then (MiB), when the trainer knew them. */
        readonly step?: number | null
        readonly memoryMib?: number | null
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

/** What a trainer's `finished` or `failed` event says about how its run ended; null for any other event. */
export const terminalOf = (event: TrainerEvent): Evidence["terminal"] =>
  event.event === "finished"
    ? { event: "finished", reason: event.reason }
    : event.event === "failed"
      ? { event: "failed", kind: event.kind, message: event.message, detail: event.detail, step: event.step, memoryMib: event.memory_mib }
      : null

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
      ...base,
      status: "failed",
      errorKind: e.terminal.kind,
      errorMessage: e.terminal.message,
      errorDetail: e.terminal.detail,
      errorStep: e.terminal.step ?? null,
      errorMemoryMib: e.terminal.memoryMib ?? null
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
  if (e.signal === "SIGHUP") {
    // so does a terminal's hang-up (an ssh disconnect), which stops the runner as SIGTERM does
    return { ...base, status: "interrupted", errorMessage: "the trainer was stopped by SIGHUP (its terminal closed) before it finished" }
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

/** The last `bytes` of a file as text ("" when it cannot be read): a trainer may write gigabytes
 * to stderr, and only its tail is kept with the run. */
export const tailOfFile = (path: string, bytes = 64 * 1024): string => {
  let fd: number | null = null
  try {
    fd = openSync(path, "r")
    const size = fstatSync(fd).size
    const buffer = Buffer.alloc(Math.min(size, bytes))
    readSync(fd, buffer, 0, buffer.length, size - buffer.length)
    const text = buffer.toString("utf8")
    // cut mid-file: drop the partial first line
    return buffer.length < size ? text.slice(text.indexOf("\n") + 1) : text
  } catch {
    return ""
  } finally {
    if (fd !== null) closeSync(fd)
  }
}
