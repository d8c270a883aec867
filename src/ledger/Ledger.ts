// The DuckDB ledger file: opening it (one writer at a time, readers read-only; only a DuckDB
// database or a new path, see guard.ts), applying ledger/schema.sql and views.sql idempotently,
// completing runs an older runner left without results, and running statements, alone or as one
// transaction. Domain writes live in records.ts; this file only owns the connection.
import {
  DuckDBConnection,
  DuckDBDataChunkWriter,
  DuckDBInstance,
  JSToDuckDBValueConverter,
  type DuckDBValue,
  type JS
} from "@duckdb/node-api"
import { Context, Effect, Layer, Schema, Semaphore } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { resolve } from "node:path"
import type { ExportFormat } from "../export/format.ts"
import { explainIoError } from "../ioerror.ts"
import { holderOf, refuseNonLedger, writerFile } from "./guard.ts"
import { jsonRows } from "./json.ts"
import { serveReads } from "./readServer.ts"

export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  path: Schema.String,
  message: Schema.String,
  /** Another process holds the file (DuckDB's lock): a reader may ask that process instead. */
  locked: Schema.optionalKey(Schema.Boolean)
}) {}

export type Row = Record<string, unknown>
export type Param = DuckDBValue
/** One statement of a transaction (`batch`), or rows for a TEMP table it created (through
 * DuckDB's appender: no SQL to parse or parameters to bind per row). */
export type Statement =
  | { readonly sql: string; readonly params?: ReadonlyArray<Param> }
  | { readonly appendTo: string; readonly rows: ReadonlyArray<ReadonlyArray<JS>> }

/** Views and macros, applied in this order after schema.sql: the study's tables and analysis, the
 * published references beside the measurements (#16), VRAM budgets and the fit frontier (#17). */
const viewFiles = ["views.sql", "references.sql", "fit.sql"] as const

const sqlFile = (name: string) => readFileSync(new URL(`../../ledger/${name}`, import.meta.url), "utf8")

/** Turn DuckDB's lock and I/O errors into a message a person can act on. */
const explain = (path: string, readOnly: boolean, cause: unknown): LedgerError => {
  const text = cause instanceof Error ? cause.message : String(cause)
  const lock = /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?[.\n]/.exec(text)
  if (/Could not set lock/.test(text)) {
    const holder = holderOf(path, lock?.[2])
    const message = readOnly
      ? `ledger ${path} is being written by another ${holder.command === null ? "process" : "tunegrid process"}${holder.detail}; read it when that run ends`
      : holder.command === "run"
        ? `ledger ${path} is already open in another process${holder.detail}; only one runner writes a ledger at a time`
        : `ledger ${path} is open in ${holder.command === null ? "another process" : `\`tunegrid ${holder.command}\``}${holder.detail}; ` +
          `a runner needs the ledger to itself: ${holder.command === "sql" ? "leave that prompt (.quit)" : "let that process end"}, then run again`
    return new LedgerError({ path, message, locked: true })
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
  readonly rowsJson: (
    sql: string,
    params?: ReadonlyArray<Param>
  ) => Effect.Effect<{ columns: Array<string>; rows: Array<Row> }, LedgerError>
  /** Statements as one transaction: all of them or none (rolled back on failure, and a process
   * killed half-way leaves none). Nothing else runs on the connection in between. */
  readonly batch: (statements: ReadonlyArray<Statement>) => Effect.Effect<void, LedgerError>
  /** Runs found `succeeded` without a results row when this writer opened the ledger (a runner
   * killed between the two by an older tunegrid), whose results were computed then. */
  readonly repaired: ReadonlyArray<string>
  /** A query's result into a file (DuckDB's COPY), where `exec` cannot run it: a ledger read
   * through the runner's socket (readClient.ts), whose process writes the file. */
  readonly copyTo?: (sql: string, params: ReadonlyArray<Param>, file: string, format: ExportFormat) => Effect.Effect<void, LedgerError>
}

export class Ledger extends Context.Service<Ledger, LedgerShape>()("tunegrid/Ledger") {
  /** Open (creating if needed) for writing, apply the schema and views. */
  static readonly layer = (path: string) => Layer.effect(Ledger, openLedger(path, false))
  /** Open an existing ledger read-only (sql, report, runs). Without fileAccess, queries also
   * cannot touch files or the network (`COPY … TO`, ATTACH, INSTALL, read_csv): for `sql`, where a
   * "read-only" query must not write outside the ledger either. */
  static readonly layerReadOnly = (path: string, fileAccess = true) => Layer.effect(Ledger, openLedger(path, true, fileAccess))
  /** A new in-memory ledger with the schema and views (tests: no file, gone when the scope closes). */
  static readonly layerTest = Layer.effect(
    Ledger,
    Effect.suspend(() => openLedger(memoryPath, false))
  )
}

const memoryPath = ":memory:"

/** The ledger opened for this scope (the layers above; readOnly.ts for readers). */
export const openLedger = Effect.fnUntraced(function* (path: string, readOnly: boolean, fileAccess = true) {
  const memory = path === memoryPath
  const file = memory ? memoryPath : resolve(path)
  const refused = refuseNonLedger(path)
  if (refused !== null) return yield* new LedgerError({ path, message: refused })
  const instance = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        DuckDBInstance.create(
          file,
          readOnly ? { access_mode: "READ_ONLY", ...(fileAccess ? {} : { enable_external_access: "false" }) } : {}
        ),
      catch: (cause) => explain(path, readOnly, cause)
    }),
    (db) => Effect.sync(() => db.closeSync())
  )
  const conn: DuckDBConnection = yield* Effect.acquireRelease(
    Effect.tryPromise({ try: () => instance.connect(), catch: (cause) => explain(path, readOnly, cause) }),
    (c) => Effect.sync(() => c.closeSync())
  )
  if (!readOnly && !memory) {
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
      () =>
        Effect.sync(() => {
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
    serial(
      Effect.tryPromise({ try: async () => (await conn.runAndReadAll(sql, [...params])).getRowObjectsJS() as Array<Row>, catch: fail(sql) })
    )
  const rowsJson = (sql: string, params: ReadonlyArray<Param> = []) =>
    serial(
      Effect.tryPromise({
        try: async () => jsonRows(await conn.runAndReadAll(sql, [...params])),
        catch: fail(sql)
      })
    )
  const batch = (statements: ReadonlyArray<Statement>) =>
    serial(
      Effect.tryPromise({
        try: async () => {
          await conn.run("BEGIN TRANSACTION")
          try {
            for (const s of statements) {
              if ("sql" in s) {
                await conn.run(s.sql, [...(s.params ?? [])])
                continue
              }
              const appender = await conn.createAppender(s.appendTo, "main", "temp")
              const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter })
              for (const row of s.rows) writer.appendRow([...row])
              writer.flush()
              appender.closeSync()
            }
            await conn.run("COMMIT")
          } catch (cause) {
            await conn.run("ROLLBACK").catch(() => undefined)
            throw cause
          }
        },
        catch: fail(statements.map((s) => ("sql" in s ? s.sql.trim().split("\n")[0] : `(rows for ${s.appendTo})`)).join(" / "))
      })
    )
  // Timestamps the ledger writes itself (DEFAULT current_timestamp, ended_at of orphans) in UTC,
  // like the ones the runner writes, whatever the machine's TZ; and `now()` in queries agrees.
  yield* exec("SET TimeZone = 'UTC'")
  // DuckDB opens some non-database files as an in-memory database: a ledger must be a file.
  const [db] = yield* rows(`SELECT path FROM duckdb_databases() WHERE database_name = current_database()`)
  if (!memory && (db?.path === null || db?.path === undefined)) {
    return yield* new LedgerError({ path, message: `${path} did not open as a DuckDB database file; pass --ledger with a .duckdb file` })
  }
  let repaired: ReadonlyArray<string> = []
  if (!readOnly) {
    yield* exec(sqlFile("schema.sql"))
    for (const file of viewFiles) yield* exec(sqlFile(file))
    yield* exec("CHECKPOINT") // schema changes into the file now, not left for a WAL replay (see schema.sql)
    // A run's status and its results row are one transaction (records.ts endRun); a ledger written
    // by an older tunegrid may hold a run killed between the two: compute its results now, from
    // its steps and samples as endRun would have.
    repaired = (yield* rows(
      `SELECT run_id FROM runs r WHERE status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM results x WHERE x.run_id = r.run_id)`
    )).map((r) => String(r.run_id))
    if (repaired.length > 0) {
      yield* batch([...repaired.map((runId) => ({ sql: resultsSql(), params: [runId] })), { sql: sentinelSql() }])
    }
    // Other processes cannot open the file while this one writes it: it answers their reads
    // (sql, report, runs, export) on a socket beside the ledger until it closes (#14 point 6).
    yield* serveReads(instance, file)
  } else {
    // A ledger last written by an older tunegrid lacks newer views and macros: this session gets
    // the current ones as temporary objects (they shadow the stored ones; the file is untouched).
    // Where its tables lack a column they need, the stored views stay as they were.
    // Each file on its own: one whose tables this ledger lacks leaves the others in place.
    for (const file of viewFiles) {
      yield* exec(sqlFile(file).replace(/CREATE OR REPLACE (VIEW|MACRO)/g, "CREATE OR REPLACE TEMP $1")).pipe(Effect.ignore)
    }
  }
  return Ledger.of({ path, readOnly, exec, rows, rowsJson, batch, repaired })
})

export const resultsSql = () => sqlFile("results.sql")
export const sentinelSql = () => sqlFile("sentinel.sql")
