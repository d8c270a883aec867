// What a rerun found, as data: the source run, the environment and inputs then and now, each
// check and the verdict with its exit code. src/rerun/rerun.ts builds it; render.ts prints it.
import type { Check, FieldChange, Verdict } from "./compare.ts"

export interface RerunReport {
  readonly source: {
    readonly runId: string
    readonly cellHash: string
    readonly label: string
    readonly via: string
    readonly seed: number
    readonly deterministic: boolean
  }
  readonly newRunId: string | null
  readonly environment: {
    readonly changed: ReadonlyArray<FieldChange>
    readonly same: ReadonlyArray<string>
    readonly recordedOnly: ReadonlyArray<FieldChange>
  }
  readonly inputs: ReadonlyArray<FieldChange>
  readonly checks: ReadonlyArray<Check>
  readonly verdict: Verdict
  readonly exitCode: number
  readonly note: string
}
