// Reads for other processes while this one writes the ledger (issue #14 point 6). DuckDB lets
// one process open a database file for writing and no other process open it at all meanwhile, so
// the process that holds the ledger answers read-only queries itself: it listens on a Unix socket
// beside the ledger (wire.ts) and runs each reader's statements on a connection of its own
// instance. DuckDB's MVCC gives that connection the committed state (every finished run, as soon
// as its transaction commits) without holding up the writer's connection, and every call is
// asynchronous, so the runner's event loop is never blocked by a reader. Only reads run: the
// prepared statement must be a SELECT (or EXPLAIN), and a reader without file access (`sql`) may
// not name files or table functions that read them. The socket is removed when the ledger closes;
// one left by a runner killed with SIGKILL is removed by the next writer (it holds DuckDB's lock,
// so no live runner can be serving it).
import { JSDuckDBValueConverter, StatementType, type DuckDBConnection, type DuckDBInstance, type DuckDBValue } from "@duckdb/node-api"
import { Effect } from "effect"
import { chmodSync, rmSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { copyStatement } from "./copy.ts"
import { jsonRows } from "./json.ts"
import { decodeValue, encodeRows, encodeValue, socketFile, type Request, type Response } from "./wire.ts"

/** A request line longer than this (bytes) is refused: statements are short, parameters few. */
const MAX_REQUEST = 1 << 20

const READS = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN])

class Refused extends Error {}

/** Table functions a reader without file access may call: DuckDB's catalog functions, series and
 * the ledger's own table macros (found in the catalog). Anything else may read a file. */
const harmlessFunction = (name: string, macros: ReadonlySet<string>) =>
  /^(duckdb_\w+|pragma_\w+|range|generate_series|unnest|json_each|json_tree)$/i.test(name) || macros.has(name.toLowerCase())

/** What in the statement's syntax tree could read a file: table functions not known to be
 * harmless, and names in FROM that look like a path (a replacement scan: `FROM 'runs.csv'`). */
const fileReads = (tree: unknown, macros: ReadonlySet<string>): Array<string> => {
  const found: Array<string> = []
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== "object") return
    const n = node as Record<string, unknown>
    if (n.type === "TABLE_FUNCTION") {
      const fn = n.function as { function_name?: unknown } | undefined
      const name = String(fn?.function_name ?? "")
      if (!harmlessFunction(name, macros)) found.push(`${name}()`)
    }
    if (n.type === "BASE_TABLE" && /[./\\:*]/.test(String(n.table_name ?? ""))) found.push(`'${String(n.table_name)}'`)
    Object.values(n).forEach(walk)
  }
  walk(tree)
  return found
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`

/** For a reader that opened the ledger without file access (`sql`): what in the statement could
 * read a file (refused: the promise `enable_external_access = false` gives a local read), or null
 * when its syntax tree cannot be had (json_serialize_sql takes SELECTs only). */
const fileReadsOf = async (conn: DuckDBConnection, sql: string): Promise<Array<string> | null> => {
  const macros = new Set(
    (await conn.runAndReadAll(`SELECT DISTINCT lower(function_name) AS name FROM duckdb_functions() WHERE function_type = 'table_macro'`))
      .getRowObjectsJS()
      .map((r) => String(r.name))
  )
  // DESCRIBE / SUMMARIZE / SHOW wrap a query or a name: judge what they wrap
  const wrapped = /^\s*(?:DESCRIBE|SUMMARIZE|SHOW)\s+([\s\S]*)$/i.exec(sql)?.[1]
  for (const candidate of wrapped === undefined ? [sql] : [wrapped, `SELECT * FROM ${wrapped}`]) {
    const tree = JSON.parse(
      String((await conn.runAndReadAll(`SELECT json_serialize_sql(${quote(candidate)}) AS tree`)).getRowObjectsJS()[0]?.tree)
    ) as { error?: boolean }
    if (tree.error !== true) return fileReads(tree, macros)
  }
  return null
}

const noFiles = (what: string) =>
  // worded as DuckDB words its own refusal, so the sql command explains it the same way
  new Refused(`Permission Error: file system operations are disabled while another process writes the ledger (${what})`)

/** A prepared read statement, refusing anything else with the reason. */
const prepareRead = async (conn: DuckDBConnection, sql: string, params: ReadonlyArray<unknown>) => {
  const prepared = await conn.prepare(sql)
  if (!READS.has(prepared.statementType)) {
    const kind = StatementType[prepared.statementType] ?? String(prepared.statementType)
    throw new Refused(
      `Invalid Input Error: Cannot execute statement of type "${kind}": the ledger is being written by another tunegrid process, which answers reads only (read-only mode)`
    )
  }
  if (params.length > 0) prepared.bind(params.map(decodeValue) as Array<DuckDBValue>)
  return prepared
}

/** The answer to one request, sent with `reply`: rows go a DuckDB chunk (2,048 rows) at a time,
 * the event loop let go between chunks, so a large result never stalls the runner's own events. */
const answer = async (conn: DuckDBConnection, req: Request, reply: (r: Response) => void): Promise<void> => {
  if (req.op === "copy") {
    // the query is checked as a read, then written by DuckDB's COPY (a file the reader named)
    await prepareRead(conn, req.sql, req.params)
    await conn.run(copyStatement(req.sql, req.file, req.format), req.params.map(decodeValue) as Array<DuckDBValue>)
    return reply({ id: req.id, ok: true })
  }
  // files are judged before prepare, which would bind (and so open) a file a table function names
  const reads = req.fileAccess ? [] : await fileReadsOf(conn, req.sql)
  if (reads !== null && reads.length > 0) throw noFiles(reads.join(", "))
  const prepared = await prepareRead(conn, req.sql, req.params) // refuses anything but a read
  if (reads === null) throw noFiles(`this statement could not be checked for file access: ${req.sql.trim().split("\n")[0]}`)
  if (req.op === "rowsJson") {
    const { columns, rows } = jsonRows(await prepared.runAndReadAll())
    return reply({ id: req.id, ok: true, columns, rows: encodeRows(columns, rows) })
  }
  const result = await prepared.stream()
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    reply({ id: req.id, ok: true, more: true, rows: chunk.convertRows(JSDuckDBValueConverter).map((row) => row.map(encodeValue)) })
    await new Promise((resolve) => setImmediate(resolve))
  }
  reply({ id: req.id, ok: true, columns: result.columnNames(), rows: [] })
}

/** One reader: its requests in order on its own connection, closed when the reader goes (a
 * reader killed mid-query only loses its answer). → waits for its statement in flight and closes
 * its connection (before the instance closes). */
const serveClient = (instance: DuckDBInstance, socket: Socket): (() => Promise<void>) => {
  let conn: Promise<DuckDBConnection> | null = null
  let queue = Promise.resolve()
  let buffer = ""
  const reply = (r: Response) => {
    if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(r) + "\n")
  }
  const handle = async (line: string) => {
    if (socket.destroyed) return // the reader is gone: nobody to answer
    let id = -1
    try {
      const req = JSON.parse(line) as Request
      id = req.id
      conn ??= instance.connect().then(async (c) => {
        await c.run("SET TimeZone = 'UTC'") // as the ledger's own connections (Ledger.ts)
        return c
      })
      await answer(await conn, req, reply)
    } catch (cause) {
      reply({ id, ok: false, message: cause instanceof Error ? cause.message : String(cause) })
    }
  }
  socket.setEncoding("utf8")
  socket.on("data", (chunk: string) => {
    buffer += chunk
    if (buffer.length > MAX_REQUEST) {
      socket.destroy()
      return
    }
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      queue = queue.then(() => handle(line))
    }
  })
  socket.on("error", () => undefined) // a reader gone mid-answer is not the runner's problem
  let closed: Promise<void> | null = null
  const close = () => {
    socket.destroy()
    // a statement in flight has nobody to answer: stop it, then close the connection
    closed ??= (conn?.then((c) => c.interrupt()).catch(() => undefined) ?? Promise.resolve())
      .then(() => queue)
      .then(() => conn?.then((c) => c.closeSync()))
      .catch(() => undefined)
    return closed
  }
  socket.on("close", () => void close())
  return close
}

const listen = (server: Server, path: string) =>
  new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(path, () => {
      server.off("error", reject)
      resolve()
    })
  })

/**
 * Answer read-only queries on `<ledger>.sock` (wire.ts's socketFile) for as long as the scope
 * lasts. Best effort: where the socket cannot be made (a read-only folder), the runner goes on
 * without it and readers get today's "being written" refusal.
 */
export const serveReads = (instance: DuckDBInstance, file: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const path = socketFile(file)
      const clients = new Set<() => Promise<void>>()
      const server = createServer((socket) => {
        const close = serveClient(instance, socket)
        clients.add(close)
        socket.on("close", () => void close().then(() => clients.delete(close)))
      })
      try {
        rmSync(path, { force: true }) // left by a runner killed with SIGKILL: no one serves it now
        await listen(server, path)
        chmodSync(path, 0o600) // this user's processes only, like the ledger's own lock
      } catch {
        server.close()
        return null
      }
      server.on("error", () => undefined)
      server.unref() // never what keeps the runner alive
      return { server, path, clients }
    }),
    (s) =>
      Effect.promise(async () => {
        if (s === null) return
        s.server.close()
        rmSync(s.path, { force: true })
        // statements in flight are interrupted and their connections closed before the instance closes
        await Promise.all([...s.clients].map((close) => close()))
      })
  )
