// The DuckDB ledger file: opening it (one writer at a time, readers read-only), applying
// ledger/schema.sql and views.sql idempotently, and running statements. Domain writes live in
// records.ts; this file only owns the connection.
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api"
import { Context, Effect, Layer, Schema, Semaphore } from "effect"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"

export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  path: Schema.String,
  message: Schema.String
}) {}

export type Row = Record<string, unknown>
export type Param = DuckDBValue

const sqlFile = (name: string) => readFileSync(new URL(`../../ledger/${name}`, import.meta.url), "utf8")

/** Turn DuckDB's lock and I/O errors into a message a person can act on. */
const explain = (path: string, readOnly: boolean, cause: unknown): LedgerError => {
  const text = cause instanceof Error ? cause.message : String(cause)
  const lock = /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?[.\n]/.exec(text)
  if (/Could not set lock/.test(text)) {
    const pid = lock?.[2] ? ` (PID ${lock[2]})` : ""
    const message = readOnly
      ? `ledger ${path} is being written by another tunegrid process${pid}; read it when that run ends`
      : `ledger ${path} is already open in another process${pid}; only one runner writes a ledger at a time`
    return new LedgerError({ path, message })
  }
  return new LedgerError({ path, message: `cannot open ledger ${path}: ${text}` })
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
  /** Open an existing ledger read-only (sql, report, runs). */
  static readonly layerReadOnly = (path: string) => Layer.effect(Ledger, open(path, true))
}

const open = Effect.fnUntraced(function*(path: string, readOnly: boolean) {
  const file = resolve(path)
  const instance = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => DuckDBInstance.create(file, readOnly ? { access_mode: "READ_ONLY" } : {}),
      catch: (cause) => explain(path, readOnly, cause)
    }),
    (db) => Effect.sync(() => db.closeSync())
  )
  const conn: DuckDBConnection = yield* Effect.acquireRelease(
    Effect.tryPromise({ try: () => instance.connect(), catch: (cause) => explain(path, readOnly, cause) }),
    (c) => Effect.sync(() => c.closeSync())
  )
  const fail = (sql: string) => (cause: unknown) =>
    new LedgerError({ path, message: `${cause instanceof Error ? cause.message : String(cause)}\n  in: ${sql.trim().split("\n")[0]}` })
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
    yield* exec(sqlFile("views.sql"))
  }
  return Ledger.of({ path, readOnly, exec, rows, rowsJson })
})

export const resultsSql = () => sqlFile("results.sql")
export const sentinelSql = () => sqlFile("sentinel.sql")
