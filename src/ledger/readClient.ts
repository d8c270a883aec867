// A reader's side of the runner's socket (readServer.ts): when another tunegrid process holds
// the ledger, `sql`, `report`, `runs`, `export` and `plot` read through it, as a Ledger whose
// reads are answered by that process and whose writes are refused.
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { createConnection, type Socket } from "node:net"
import { resolve } from "node:path"
import type { ExportFormat } from "../export/format.ts"
import { Ledger, LedgerError, type LedgerShape, type Param, type Row } from "./Ledger.ts"
import { decodeRows, encodeValue, socketFile, type Ask, type Response } from "./wire.ts"

/** How long to wait for a runner to accept the connection (ms): a live one does at once. */
const CONNECT_MS = 2000

const connect = (path: string) =>
  new Promise<Socket | null>((done) => {
    if (!existsSync(path)) return done(null)
    const socket = createConnection(path)
    const timer = setTimeout(() => {
      socket.destroy()
      done(null)
    }, CONNECT_MS)
    socket.once("connect", () => {
      clearTimeout(timer)
      done(socket)
    })
    socket.once("error", () => {
      clearTimeout(timer)
      done(null) // no runner behind it (one killed with SIGKILL leaves the file)
    })
  })

type Pending = { readonly resolve: (r: Response) => void; readonly reject: (e: Error) => void; readonly rows: Array<Array<unknown>> }

/**
 * A Ledger read through the socket of the process writing `path`, for as long as the scope
 * lasts; null when no live runner answers there.
 */
export const remoteLedger = (path: string, fileAccess: boolean) =>
  Effect.gen(function* () {
    const socket = yield* Effect.acquireRelease(
      Effect.promise(() => connect(socketFile(resolve(path)))),
      (s) => Effect.sync(() => s?.destroy())
    )
    if (socket === null) return null
    const pending = new Map<number, Pending>()
    let nextId = 0
    let buffer = ""
    let gone: Error | null = null
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
        const r = JSON.parse(buffer.slice(0, end)) as Response
        buffer = buffer.slice(end + 1)
        const p = pending.get(r.id)
        if (p === undefined) continue
        if (r.ok && r.more === true) {
          for (const row of r.rows ?? []) p.rows.push(row) // one chunk of a longer answer
          continue
        }
        pending.delete(r.id)
        p.resolve(r.ok ? { ...r, rows: [...p.rows, ...(r.rows ?? [])] } : r)
      }
    })
    const lost = () => {
      gone ??= new Error(`the process writing ledger ${path} stopped answering (it ended, or was killed); read the ledger again`)
      for (const p of pending.values()) p.reject(gone)
      pending.clear()
    }
    socket.on("error", lost)
    socket.on("close", lost)

    const ask = (req: Ask, sql: string): Effect.Effect<Response & { ok: true }, LedgerError> =>
      Effect.tryPromise({
        try: () =>
          new Promise<Response>((resolveResponse, reject) => {
            if (gone) return reject(gone)
            const id = nextId++
            pending.set(id, { resolve: resolveResponse, reject, rows: [] })
            socket.write(JSON.stringify({ ...req, id }) + "\n")
          }),
        catch: (cause) => new LedgerError({ path, message: cause instanceof Error ? cause.message : String(cause) })
      }).pipe(
        Effect.flatMap((r) =>
          r.ok
            ? Effect.succeed(r)
            : // the same shape as a local read's error (Ledger.ts): DuckDB's message, then the statement
              Effect.fail(new LedgerError({ path, message: `${r.message}\n  in: ${sql.trim().split("\n")[0]}` }))
        )
      )

    const params = (values: ReadonlyArray<Param>) => values.map(encodeValue)
    const rowsOf =
      (op: "rows" | "rowsJson") =>
      (sql: string, values: ReadonlyArray<Param> = []) =>
        Effect.map(ask({ op, sql, params: params(values), fileAccess }, sql), (r) => {
          const columns = r.columns ?? []
          return { columns, rows: decodeRows(columns, r.rows ?? []) as Array<Row> }
        })
    const refuse = (what: string) =>
      Effect.fail(
        new LedgerError({
          path,
          message: `ledger ${path} is being written by another tunegrid process, which answers reads only; ${what} waits until that run ends`
        })
      )

    return Ledger.of({
      path,
      readOnly: true,
      exec: () => refuse("this statement"),
      rows: (sql, values) => Effect.map(rowsOf("rows")(sql, values), (t) => t.rows),
      rowsJson: rowsOf("rowsJson"),
      batch: () => refuse("a transaction"),
      repaired: [],
      copyTo: (sql: string, values: ReadonlyArray<Param>, file: string, format: ExportFormat) =>
        Effect.asVoid(ask({ op: "copy", sql, params: params(values), file, format }, sql))
    } satisfies LedgerShape)
  })
