// The interactive sql prompt's history: a statement typed over several lines is kept as one
// entry, saved in ~/.cache/tunegrid/sql_history between sessions.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join } from "node:path"

/** readline's history (newest first) after a statement that took the last `lines` entries:
 * those entries become the one statement. */
export const foldHistory = (history: ReadonlyArray<string>, lines: number, statement: string): Array<string> => {
  const oneLine = statement.replace(/\s*\n\s*/g, " ").trim()
  return [oneLine, ...history.slice(Math.max(1, lines)).filter((h, i) => !(i === 0 && h === oneLine))]
}

export const historyFile = () => join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tunegrid", "sql_history")

export const loadHistory = (file: string): Array<string> => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).reverse()
  } catch {
    return []
  }
}

export const saveHistory = (file: string, history: ReadonlyArray<string>) => {
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, [...history].slice(0, 1000).reverse().join("\n") + "\n")
  } catch {
    // a history that cannot be saved is not worth failing the session for
  }
}
