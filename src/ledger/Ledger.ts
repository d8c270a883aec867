// The DuckDB ledger file: opening it (one writer at a time, readers read-only), applying
// ledger/schema.sql and views.sql idempotently, and running statements. Domain writes live in
// records.ts; this file only owns the connection.
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api"
import { Context, Effect, Layer, Schema, Semaphore } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { resolve } from "node:path"
import { explainIoError } from "../ioerror.ts"

export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  path: Schema.String,
  message: Schema.String
}) {}

export type Row = Record<string, unknown>
export type Param = DuckDBValue

/** Views and macros, applied in this order after schema.sql: the study's tables and analysis, the
 * published references beside the measurements (#16), VRAM budgets and the fit frontier (#17). */
const viewFiles = ["views.sql", "references.sql", "fit.sql"] as const

const sqlFile = (name: string) => readFileSync(new URL(`../../ledger/${name}`, import.meta.url), "utf8")

/** Beside the ledger while a runner writes it: who holds it (DuckDB's lock error names only a PID). */
export const writerFile = (file: string) => `${file}.writer`

const holder = (path: string, pid: string | undefined): string => {
  try {
    const w = JSON.parse(readFileSync(writerFile(resolve(path)), "utf8")) as { pid: number; host: string; since: string }
    if (pid === undefined || String(w.pid) === pid) return ` (PID ${w.pid} on host ${w.host}, writing since ${w.since})`
  } catch {
    // no note (or an unreadable one): DuckDB's PID is all there is
  }
  return pid ? ` (PID ${pid})` : ""
}

/** Turn DuckDB's lock and I/O errors into a message a person can act on. */
const explain = (path: string, readOnly: boolean, cause: unknown): LedgerError => {
  const text = cause instanceof Error ? cause.message : String(cause)
  const lock = /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?[.\n]/.exec(text)
  if (/Could not set lock/.test(text)) {
    const pid = holder(path, lock?.[2])
    const message = readOnly
      ? `ledger ${path} is being written by another tunegrid process${pid}; read it when that run ends`
      : `ledger ${path} is already open in another process${pid}; only one runner writes a ledger at a time`
    return new LedgerError({ path, message })
  }
  const io = explainIoError(text)
  return new LedgerError({ path, message: `cannot open ledger ${path}: ${io ?? text}` })
}

export interface LedgerShape {
  readonly path: string
  readonly readOnly: boolean
  readonly exec: (sql: string, params?: ReadonlyArray<Param>) => Effect.Effect<void, LedgerError>
  readonly rows: (sql: string, params?: ReadonlyArray<Param>) => Effect.Effect<Array<Row>, LedgerError>
  /** Rows as JSON-safe values (bigints and timestamps as strings), for printing. */
  readonly rowsJson: (sql: string, params?: ReadonlyArray<Param>) => Effect.Effect<{ columns: Array<string>; rows: Array<Row> }, LedgerError>
}

export class Ledger extends Context.Service<Ledger, LedgerShape>()("tunegrid/Ledger") {
  /** Open (creating if needed) for writing, apply the schema and views. */
  static readonly layer = (path: string) => Layer.effect(Ledger, open(path, false))
  /** Open an existing ledger read-only (sql, report, runs). Without fileAccess, queries also
   * cannot touch files or the network (`COPY … TO`, ATTACH, INSTALL, read_csv): for `sql`, where a
   * "read-only" query must not write outside the ledger either. */
  static readonly layerReadOnly = (path: string, fileAccess = true) => Layer.effect(Ledger, open(path, true, fileAccess))
}

const open = Effect.fnUntraced(function*(path: string, readOnly: boolean, fileAccess = true) {
  const file = resolve(path)
  const instance = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => DuckDBInstance.create(file, readOnly ? { access_mode: "READ_ONLY", ...(fileAccess ? {} : { enable_external_access: "false" }) } : {}),
      catch: (cause) => explain(path, readOnly, cause)
    }),
    (db) => Effect.sync(() => db.closeSync())
  )
  const conn: DuckDBConnection = yield* Effect.acquireRelease(
    Effect.tryPromise({ try: () => instance.connect(), catch: (cause) => explain(path, readOnly, cause) }),
    (c) => Effect.sync(() => c.closeSync())
  )
  if (!readOnly) {
    // A note naming this writer for a second runner's refusal; removed when the ledger closes.
    const note = writerFile(file)
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        try {
          writeFileSync(note, mine)
        } catch {
          // best effort: the DuckDB lock is what keeps a second writer out
        }
      }),
      () => Effect.sync(() => {
        try {
          if (readFileSync(note, "utf8") === mine) rmSync(note)
        } catch {
          // already gone
        }
      })
    )
  }
  const fail = (sql: string) => (cause: unknown) => {
    const text = cause instanceof Error ? cause.message : String(cause)
    const io = explainIoError(text)
    return new LedgerError({ path, message: `${io ? `ledger ${path}: ${io}\n  ` : ""}${text}\n  in: ${sql.trim().split("\n")[0]}` })
  }
  // One statement at a time on the connection: trainer and sampler events arrive concurrently.
  const serial = (yield* Semaphore.make(1)).withPermits(1)
  const exec = (sql: string, params: ReadonlyArray<Param> = []) =>
    serial(Effect.tryPromise({ try: () => conn.run(sql, [...params]).then(() => undefined), catch: fail(sql) }))
  const rows = (sql: string, params: ReadonlyArray<Param> = []) =>
    serial(Effect.tryPromise({ try: async () => (await conn.runAndReadAll(sql, [...params])).getRowObjectsJS() as Array<Row>, catch: fail(sql) }))
  const rowsJson = (sql: string, params: ReadonlyArray<Param> = []) =>
    serial(Effect.tryPromise({
      try: async () => {
        const reader = await conn.runAndReadAll(sql, [...params])
        return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Array<Row> }
      },
      catch: fail(sql)
    }))
  if (!readOnly) {
    yield* exec(sqlFile("schema.sql"))
    for (const file of viewFiles) yield* exec(sqlFile(file))
    yield* exec("CHECKPOINT") // schema changes into the file now, not left for a WAL replay (see schema.sql)
  } else {
    // A ledger last written by an older tunegrid lacks newer views and macros: this session gets
    // the current ones as temporary objects (they shadow the stored ones; the file is untouched).
    // Where its tables lack a column they need, the stored views stay as they were.
    // Each file on its own: one whose tables this ledger lacks leaves the others in place.
    for (const file of viewFiles) {
      yield* exec(sqlFile(file).replace(/CREATE OR REPLACE (VIEW|MACRO)/g, "CREATE OR REPLACE TEMP $1")).pipe(Effect.ignore)
    }
  }
  return Ledger.of({ path, readOnly, exec, rows, rowsJson })
})

export const resultsSql = () => sqlFile("results.sql")
export const sentinelSql = () => sqlFile("sentinel.sql")
