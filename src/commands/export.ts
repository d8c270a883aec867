// `tunegrid export`: the ledger's tables (or one query) to Parquet, CSV or JSON files through
// DuckDB's own COPY, for pandas, R, spreadsheets or another DuckDB. Format rules:
// src/export/format.ts; the COPY itself: src/ledger/export.ts.
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { gridFilter, gridFlag, ledgerFlag, UserError } from "../cli/flags.ts"
import { exportFormat, exportFormats } from "../export/format.ts"
import { copyTo, tableNames, type ExportSource } from "../ledger/export.ts"
import { withReadOnly } from "../ledger/readOnly.ts"
/** A path with its folder's symlinks resolved, for comparing paths that may not exist yet. */
const canonical = (path: string) => {
  try {
    return join(realpathSync(dirname(resolve(path))), basename(path))
  } catch {
    return resolve(path)
  }
}

/** Whether two paths name the same file: the same inode when both exist, else the same path. */
const sameFile = (a: string, b: string) => {
  try {
    const [x, y] = [statSync(a), statSync(b)]
    return x.dev === y.dev && x.ino === y.ino
  } catch {
    return canonical(a) === canonical(b)
  }
}

/** An export must never write over the ledger it reads, its write-ahead log or its writer note. */
const refuseLedgerTarget = (ledger: string, out: string) => {
  const target = [ledger, `${ledger}.wal`, `${ledger}.writer`].find((p) => sameFile(out, p))
  return target === undefined
    ? Effect.void
    : Effect.fail(
        new UserError({
          message: `export --out ${out} would overwrite ${target === ledger ? "the ledger itself" : target} (the ledger being exported is ${ledger}); choose another file or folder`
        })
      )
}

export const exportCommand = Command.make(
  "export",
  {
    out: Flag.String("out").pipe(
      Flag.withDescription("Folder for one file per table, or the file for --query (its extension picks the format)")
    ),
    format: Flag.Literals("format", exportFormats).pipe(
      Flag.optional,
      Flag.withDescription("parquet (default), csv or json; else from the --out file's extension")
    ),
    query: Flag.String("query").pipe(Flag.optional, Flag.withDescription("Export this query's result instead of every table")),
    grid: gridFlag,
    ledger: ledgerFlag
  },
  (o) =>
    withReadOnly(
      o.ledger,
      Effect.gen(function* () {
        yield* refuseLedgerTarget(o.ledger, o.out)
        const chosen = exportFormat(o.out, Option.getOrNull(o.format), Option.isSome(o.query))
        if ("problem" in chosen) return yield* new UserError({ message: chosen.problem })
        const filter = yield* gridFilter(o.grid)
        const copy = (source: ExportSource, file: string) =>
          refuseLedgerTarget(o.ledger, file).pipe(
            Effect.andThen(
              copyTo(source, file, chosen.format).pipe(
                Effect.mapError((e) => new UserError({ message: `export to ${file} failed: ${e.message.replace(/\n {2}in: .*$/s, "")}` }))
              )
            )
          )
        if (Option.isSome(o.query)) {
          if (filter.grid !== null)
            return yield* new UserError({
              message: "--grid filters the exported tables; with --query, put the condition in the query (e.g. WHERE grid = '…')"
            })
          const file = resolve(o.out)
          mkdirSync(dirname(file), { recursive: true })
          yield* copy({ query: o.query.value }, file)
          return yield* Console.log(`wrote ${file}`)
        }
        const tables = yield* tableNames
        mkdirSync(o.out, { recursive: true })
        for (const table of tables) {
          const file = resolve(join(o.out, `${table}.${chosen.format}`))
          yield* copy({ table, grid: filter.grid }, file)
          yield* Console.log(`wrote ${file}`)
        }
      })
    )
).pipe(Command.withDescription("Export the ledger's tables (one file each) or a query's result to Parquet, CSV or JSON (DuckDB COPY)"))
