// Exit codes of `tunegrid run` (and `ingest`) and the closing line that says how a run ended.
// 0: every planned run succeeded or was already done · 1: tunegrid itself failed (bad flag,
// no Python, ledger locked…) · 2: the grid was refused before any trainer started (invalid grid,
// or a check against this machine) · 3: at least one run failed (oom, crash…), the others ran;
// --allow-failures keeps 0 · 130: stopped (q, Ctrl-C, SIGTERM) with runs left; `run` again resumes.
export const exitCodes = { ok: 0, error: 1, refused: 2, runsFailed: 3, stopped: 130 } as const

export interface RunEnding {
  readonly code: number
  readonly line: string
}

/** The exit code and the one closing line for a grid's run counts (as the scheduler returns them). */
export const runEnding = (counts: Readonly<Record<string, number>>, allowFailures: boolean): RunEnding => {
  const n = (k: string) => counts[k] ?? 0
  const parts =
    Object.entries(counts)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ") || "nothing to run"
  if (n("left") > 0 || n("interrupted") > 0) {
    return {
      code: exitCodes.stopped,
      line: `stopped before the end (${parts}); run the same command again to resume — exit ${exitCodes.stopped}`
    }
  }
  if (n("failed") > 0) {
    return allowFailures
      ? {
          code: exitCodes.ok,
          line: `finished with ${n("failed")} failed run${n("failed") === 1 ? "" : "s"} (${parts}); --allow-failures: exit 0`
        }
      : {
          code: exitCodes.runsFailed,
          line: `finished with ${n("failed")} failed run${n("failed") === 1 ? "" : "s"} (${parts}) — exit ${exitCodes.runsFailed} (--allow-failures keeps 0)`
        }
  }
  return { code: exitCodes.ok, line: `finished: ${parts} — exit 0` }
}
