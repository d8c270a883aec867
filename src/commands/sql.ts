// `tunegrid sql ["<query>"]`: a read-only query on the ledger (tables and views in ledger/*.sql),
// or, with no query, an interactive prompt (statements end with `;`, `.quit` leaves). Bad SQL
// gets DuckDB's own pointer to the problem plus what the ledger does have, never a stack trace.
import { Console, Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { createInterface } from "node:readline"
import { ledgerFlag, UserError } from "../cli/flags.ts"
import { foldHistory, historyFile, loadHistory, saveHistory } from "../cli/sqlHistory.ts"
import { catalog, schemaOf, showTablesQuery } from "../ledger/catalog.ts"
import { Ledger, type LedgerShape } from "../ledger/Ledger.ts"
import { queryTable } from "../ledger/query.ts"
import { withReadOnly } from "../ledger/readOnly.ts"
import { render, type Format } from "../report.ts"

const listing = (items: ReadonlyArray<{ name: string; kind: string }>) =>
  ["table", "view", "macro"]
    .map(
      (kind) =>
        `${kind}s: ${
          items
            .filter((i) => i.kind === kind)
            .map((i) => i.name)
            .join(", ") || "(none)"
        }`
    )
    .join("\n")

/** DuckDB's message without our own "in:" echo, plus a hint where one helps. Pure. */
export const friendlySqlError = (message: string, items: ReadonlyArray<{ name: string; kind: string }>): string => {
  const text = message
    .replace(/\n {2}in: .*$/s, "")
    .replace(/^Failed to extract statements: /, "")
    .trim()
  if (/file system operations are disabled/i.test(text)) {
    return `the sql command is read-only and cannot read or write files (${text.split("\n")[0]}); use \`tunegrid export\` to write files`
  }
  if (/read-only mode|read only/i.test(text)) {
    return `the sql command is read-only; this statement would write to the ledger (${text.split("\n")[0]})`
  }
  if (/^Catalog Error: (Table|Table Function) with name/m.test(text)) return `${text}\n\nthe ledger has\n${listing(items)}`
  if (/^Binder Error: Referenced column/m.test(text)) return `${text}\n\n(DESCRIBE <table> lists a table's columns)`
  return text
}

const runQuery = (l: LedgerShape, query: string, format: Format) =>
  queryTable(l, showTablesQuery(query) ?? query).pipe(
    Effect.map((t) => render(t.columns, t.rows, format)),
    Effect.catch((e) => Effect.flatMap(catalog(l), (items) => Effect.fail(new UserError({ message: friendlySqlError(e.message, items) }))))
  )

/** The index just past a quoted string, comment or dollar-quoted body opening at `i`, `i` when
 * none opens there, or -1 when it is not closed yet (more input to come). */
const skipLiteral = (text: string, i: number): number => {
  const ch = text[i]!
  const next = text[i + 1]
  if (ch === "-" && next === "-") {
    const end = text.indexOf("\n", i)
    return end < 0 ? -1 : end + 1
  }
  if (ch === "/" && next === "*") {
    const end = text.indexOf("*/", i + 2)
    return end < 0 ? -1 : end + 2
  }
  if (ch === "'" || ch === '"') {
    // E'…' strings take backslash escapes; in all others a doubled quote is the quote itself
    const escapes = ch === "'" && /[eE]/.test(text[i - 1] ?? "") && !/[\w$]/.test(text[i - 2] ?? "")
    for (let j = i + 1; j < text.length; j++) {
      if (escapes && text[j] === "\\") j += 1
      else if (text[j] === ch) {
        if (text[j + 1] !== ch) return j + 1
        j += 1
      }
    }
    return -1
  }
  if (ch === "$" && !/[\w$]/.test(text[i - 1] ?? "")) {
    // $$…$$ or $tag$…$tag$ (not a $1 parameter)
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64))?.[0]
    if (tag === undefined) return i
    const end = text.indexOf(tag, i + tag.length)
    return end < 0 ? -1 : end + tag.length
  }
  return i
}

/** Split accumulated input into complete statements (ending with `;` outside strings, quoted
 * names, comments and $$-bodies) and the unfinished rest. A statement of comments only is none. */
export const takeStatements = (buffer: string): { statements: Array<string>; rest: string } => {
  const statements: Array<string> = []
  let start = 0
  let code = false // anything but comments and blanks since `start`
  for (let i = 0; i < buffer.length; ) {
    const ch = buffer[i]!
    const after = skipLiteral(buffer, i)
    if (after < 0) break // an open string or comment: the rest waits for more input
    if (after > i) {
      if (ch !== "-" && ch !== "/") code = true
      i = after
      continue
    }
    if (ch === ";") {
      if (code) statements.push(buffer.slice(start, i).trim())
      start = i + 1
      code = false
    } else if (!/\s/.test(ch)) code = true
    i += 1
  }
  return { statements, rest: buffer.slice(start) }
}

const help = `statements end with ;  (they may span lines)
.tables   list tables, views and macros
.schema [name]  the CREATE statements (of one table, view or macro)
.quit     leave (also .exit or Ctrl+D)`

const interactive = (l: LedgerShape, format: Format) =>
  Effect.promise(async () => {
    const tty = Boolean(process.stdin.isTTY)
    const history = tty ? loadHistory(historyFile()) : []
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty, history, historySize: 1000 })
    let statementLines = 0
    const out = (text: string) => process.stdout.write(text + "\n")
    const prompt = (continued: boolean) => {
      if (!tty) return
      rl.setPrompt(continued ? "     ...> " : "tunegrid> ")
      rl.prompt()
    }
    if (tty) out(`tunegrid sql on ${l.path} (read-only). ${help.split("\n")[0]}; .help for more`)
    let buffer = ""
    let failures = 0
    const execute = async (statement: string) => {
      const r = await Effect.runPromise(Effect.result(runQuery(l, statement, format)))
      if (Result.isSuccess(r)) out(r.success)
      else {
        failures += 1
        process.stderr.write(`error: ${r.failure.message}\n`)
      }
    }
    prompt(false)
    for await (const line of rl) {
      if (buffer.trim() === "" && line.trim().startsWith(".")) {
        const command = line.trim()
        if (command === ".quit" || command === ".exit") break
        if (command === ".tables") out(listing(await Effect.runPromise(catalog(l))))
        else if (command === ".schema" || command.startsWith(".schema "))
          out(await Effect.runPromise(schemaOf(l, command.slice(7).trim() || null)))
        else if (command === ".help") out(help)
        else process.stderr.write(`unknown command ${command}\n${help}\n`)
        prompt(false)
        continue
      }
      const { statements, rest } = takeStatements(buffer + line + "\n")
      statementLines += 1
      // a statement typed over several lines comes back from the history (up arrow) whole
      if (statements.length > 0 && tty) {
        const lines = rl as unknown as { history: Array<string> }
        lines.history = foldHistory(lines.history, statementLines, statements.join("; ") + ";")
      }
      if (statements.length > 0) statementLines = rest.trim() === "" ? 0 : 1
      buffer = rest
      for (const statement of statements) await execute(statement)
      prompt(buffer.trim() !== "")
    }
    if (tty) saveHistory(historyFile(), (rl as unknown as { history: Array<string> }).history)
    rl.close()
    // input ended without a last `;`: run what is left unless it is only comments; an open string
    // or comment goes to DuckDB as it is, to say what is unterminated
    const end = takeStatements(buffer + "\n;")
    for (const statement of [...end.statements, ...(end.rest.trim() === "" ? [] : [buffer.trim()])]) await execute(statement)
    return failures
  })

export const sqlCommand = Command.make(
  "sql",
  {
    query: Argument.String("query").pipe(
      Argument.optional,
      Argument.withDescription('SQL to run, e.g. "SELECT * FROM table1"; none: interactive prompt')
    ),
    format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(
      Flag.withDefault("table"),
      Flag.withDescription("table (default), md, csv or json")
    ),
    ledger: ledgerFlag
  },
  (o) =>
    withReadOnly(
      o.ledger,
      Effect.gen(function* () {
        const l = yield* Ledger
        if (Option.isSome(o.query)) return yield* Console.log(yield* runQuery(l, o.query.value, o.format))
        const failures = yield* interactive(l, o.format)
        if (failures > 0) process.exitCode = 1
      }),
      false
    ) // no file or network access either: COPY … TO / ATTACH would write outside the ledger
).pipe(
  Command.withDescription(
    "Query the ledger read-only (tables: runs, steps, samples, results, cells, grids, environments; views: table1, table2, run_summary, failures, cell_summary, cell_report; macros: factor_effect(name), pareto(budget_mib), compare_runs(a, b), paired_runs(a, b)). No query: interactive prompt"
  )
)
