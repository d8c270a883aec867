// A cell's trainer started while the cell before it runs (trainer/PROTOCOL.md §2a, issue #21): it
// imports its libraries and waits for `go` on stdin before touching the device. The runner pauses
// it (SIGSTOP) while any step of the running cell is measured and hands it over (`go`) once its own
// sampler is ready; unused, it is killed. The scheduler's side of this is in sequence.ts.
import type { Child } from "./CellProcess.ts"
import { handle, spawnPython } from "./CellProcess.ts"
import type { Prestarted, TrainerHandle } from "./follow.ts"

export type { Prestarted } from "./follow.ts"

export interface PrestartOptions {
  readonly python: string
  readonly specPath: string
  readonly stderrPath: string
  readonly trainerEnv?: Readonly<Record<string, string>> | undefined
}

/** Pause, resume and discard over a child process (real or, in tests, a recording's stand-in). */
export const pausable = (
  signal: (s: "SIGSTOP" | "SIGCONT" | "SIGKILL") => void,
  go: () => TrainerHandle
): Prestarted & { readonly pid: undefined } => {
  let paused = false
  let gone = false
  const resume = () => {
    if (paused && !gone) signal("SIGCONT")
    paused = false
  }
  return {
    pid: undefined,
    pause: () => {
      if (!paused && !gone) signal("SIGSTOP")
      paused = true
    },
    resume,
    discard: () => {
      if (!gone) signal("SIGKILL")
      gone = true
    },
    go: () => {
      resume()
      return go()
    }
  }
}

/** Spawns `python -m tunegrid_trainer --spec <spec> --prestart` (its stderr into its run's file). */
export const spawnPrestart = (o: PrestartOptions): Prestarted => {
  const sub: Child = spawnPython(o.python, ["-m", "tunegrid_trainer", "--spec", o.specPath, "--prestart"], o.stderrPath, o.trainerEnv)
  // a trainer that failed before its `go` (a bad spec) has closed its stdin: the `go` must not throw
  sub.stdin?.on("error", () => {})
  const p = pausable(
    (s) => void sub.kill(s),
    () => {
      sub.stdin?.write(JSON.stringify({ command: "go" }) + "\n")
      return handle(sub)
    }
  )
  return { ...p, pid: sub.pid }
}
