// What may be opened as a ledger and, when one is locked, who holds it. DuckDB opens a JSON, CSV
// or Parquet file given as a database as a temporary in-memory database with a view over it (so a
// grid would run, print and save nothing), and its lock error names only a PID: these checks turn
// both into messages naming the file or the process. Pure reads of the file system; no DuckDB.
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { commandLine } from "../proc.ts"

/** Beside the ledger while a runner writes it: who holds it (DuckDB's lock error names only a PID). */
export const writerFile = (file: string) => `${file}.writer`

/** What the first bytes of a file look like, for the refusal (a guess; only DuckDB's own header counts). */
const looksLike = (head: Buffer): string => {
  if (head.length === 0) return "an empty file"
  if (head.subarray(0, 4).toString("latin1") === "PAR1") return "a Parquet file"
  const text = head.toString("utf8").trimStart()
  if (text.startsWith("{") || text.startsWith("[")) return "a JSON or JSON-lines file"
  if (/^[^\n]*[,\t;][^\n]*\n/.test(text)) return "a CSV/TSV file"
  return "not a DuckDB database file"
}

/**
 * Null when `path` may be opened as a ledger: a DuckDB database file (its header carries "DUCK" at
 * byte 8) or a path that does not exist yet (a new ledger). Otherwise why not, naming the file.
 */
export const refuseNonLedger = (path: string): string | null => {
  const file = resolve(path)
  let size: number
  try {
    const st = statSync(file)
    if (!st.isFile()) return null // a directory and the like: DuckDB's own error says so (ioerror.ts)
    size = st.size
  } catch {
    return null // no such file: a new ledger
  }
  const head = Buffer.alloc(Math.min(size, 512))
  const fd = openSync(file, "r")
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  if (head.length >= 12 && head.subarray(8, 12).toString("latin1") === "DUCK") return null
  return (
    `${path} is ${looksLike(head)}, not a tunegrid ledger (a DuckDB database): DuckDB would open it as a temporary ` +
    `in-memory database and nothing would be saved. Pass --ledger with a .duckdb file, or a new path to create one`
  )
}

const tunegridCommand = (cmd: string): string | null => {
  const m = /(?:tunegrid(?:\.js)?|cli\.ts)\s+(run|sql|report|runs|export|plot|rerun|ingest|doctor)\b/.exec(cmd)
  return m ? m[1]! : null
}

export interface Holder {
  /** " (PID n …)" to append to a message. */
  readonly detail: string
  /** Which tunegrid command holds it, when the process is one; "run" when its writer note names it. */
  readonly command: string | null
}

/** Who holds a locked ledger: the writer note when it names that PID, else the process's command line. */
export const holderOf = (path: string, pid: string | undefined): Holder => {
  try {
    const w = JSON.parse(readFileSync(writerFile(resolve(path)), "utf8")) as { pid: number; host: string; since: string }
    if (pid === undefined || String(w.pid) === pid) {
      return { detail: ` (PID ${w.pid} on host ${w.host}, writing since ${w.since})`, command: "run" }
    }
  } catch {
    // no note (or an unreadable one): look the PID up
  }
  if (pid === undefined) return { detail: "", command: null }
  const cmd = commandLine(pid)
  if (cmd === null) return { detail: ` (PID ${pid})`, command: null }
  const shown = cmd.length > 160 ? `${cmd.slice(0, 157)}...` : cmd
  return { detail: ` (PID ${pid}: ${shown})`, command: tunegridCommand(cmd) }
}
