// Trainer and sampler processes that outlived a runner killed with SIGKILL. The processes end
// themselves when their runner dies (tunegrid_trainer/lifeline.py); where that did not happen
// (no parent-death signal on this OS, a process stuck in the kernel), the next runner of the same
// ledger stops them before it starts a cell, so no stray trainer takes the GPU from a measured run.
// Each run folder keeps `processes.jsonl`: one line per child, with its PID and its start time.
import { Effect, FileSystem } from "effect"
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { commandLine, running, startTime } from "../proc.ts"

export interface ChildRecord {
  readonly role: "trainer" | "sampler"
  readonly pid: number
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused PID apart. */
  readonly start: string | null
}

const processesFile = (runDir: string) => join(runDir, "processes.jsonl")

/** Note a child the moment it is spawned (before anything can kill this runner unannounced):
 * synchronously, so the line is on disk before the spawn's caller goes on. */
export const recordChild = (runDir: string, role: ChildRecord["role"], pid: number | undefined) => {
  if (pid === undefined) return
  try {
    appendFileSync(processesFile(runDir), JSON.stringify({ role, pid, start: startTime(pid) } satisfies ChildRecord) + "\n")
  } catch {
    // best effort: the children's own lifeline is the first defence
  }
}

/** Whether the process with this record's PID is still that child: the same start time where
 * /proc gives one, else a tunegrid Python module on its command line. In doubt, it is not. */
const stillThere = (c: ChildRecord): boolean => {
  if (!running(c.pid)) return false
  const start = startTime(c.pid)
  if (c.start !== null && start !== null) return start === c.start
  return commandLine(c.pid)?.includes("tunegrid_trainer") ?? false
}

/** SIGKILL the children recorded in these run folders that are still running; waits up to 5 s
 * for them to be gone. Returns what it stopped. */
export const stopLeftovers = (runDirs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const found: Array<ChildRecord> = []
    for (const dir of runDirs) {
      // no file (a run that started no process) or an unreadable one: nothing known to stop
      const text = yield* fs.readFileString(processesFile(dir)).pipe(Effect.orElseSucceed(() => ""))
      for (const line of text.split("\n").filter(Boolean)) {
        try {
          const c = JSON.parse(line) as ChildRecord
          if (stillThere(c)) found.push(c)
        } catch {
          // a line cut short by the kill: that child's PID is unknown
        }
      }
    }
    for (const c of found) {
      try {
        process.kill(c.pid, "SIGKILL")
      } catch {
        // gone in the meantime
      }
    }
    for (let waited = 0; waited < 5000 && found.some((c) => running(c.pid)); waited += 50) yield* Effect.sleep(50)
    return found
  })
