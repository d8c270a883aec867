// Facts about a local process by its PID, for naming who holds a ledger and for telling a
// leftover trainer from an unrelated process that reused its PID: its command line (/proc on
// Linux, else ps), its start time and whether it is a zombie (/proc only).
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"

/** The command line of a local process, or null (gone, another host's, or not readable). */
export const commandLine = (pid: number | string): string | null => {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8")
    if (raw) return raw.split("\0").filter(Boolean).join(" ")
  } catch {
    // no /proc (macOS) or no such process: ask ps
  }
  try {
    return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null
  } catch {
    return null
  }
}

/** /proc/<pid>/stat after the command name (which is in parentheses and may hold spaces):
 * [0] is the state (Z: a zombie, already dead), [19] the start time in clock ticks since boot. */
const stat = (pid: number): Array<string> | null => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1)!.split(" ")
  } catch {
    return null
  }
}

/** Start time of a process (Linux), or null where /proc does not say: tells a reused PID apart. */
export const startTime = (pid: number): string | null => stat(pid)?.[19] ?? null

/** Whether a process runs (a zombie does not: it only waits for its parent to collect it). */
export const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  return stat(pid)?.[0] !== "Z"
}
