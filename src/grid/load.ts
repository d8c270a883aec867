// Loading a grid file: import the TypeScript module (jiti), run it if it default-exports an
// Effect, apply --set overrides, and decode with Schema. Every failure names the file, the field
// path, the bad value and what was expected, before anything runs.
import { Effect, Result, Runtime, Schema, SchemaIssue } from "effect"
import { createJiti } from "jiti"
import { existsSync, readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { expandGrid, type Expansion, type ExpandProblem } from "./expand.ts"
import { CellConfig, GridDef, MeasureInput } from "./schema.ts"
import { didYouMean } from "./suggest.ts"
import { checkCells } from "./validate.ts"

export class GridInvalid extends Schema.TaggedError<GridInvalid>()("GridInvalid", {
  file: Schema.String,
  problems: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  /** `tunegrid run` exits 2 when the grid is refused before any trainer starts (src/cli/exit.ts). */
  readonly [Runtime.errorExitCode] = 2
  override get message() {
    return `invalid grid ${this.file}:\n` + this.problems.map((p) => `  ${p.path || "(grid)"}: ${p.message}`).join("\n")
  }
}

/** A grid refused for problems found after decoding (expansion, the checks in validate.ts). */
export const gridInvalid = (file: string, problems: ReadonlyArray<ExpandProblem>) =>
  new GridInvalid({ file, problems: problems.map((p) => ({ path: p.path, message: `expected ${p.expected}; got ${show(p.value)}` })) })

export interface LoadedGrid {
  readonly file: string
  readonly sourceText: string
  readonly def: GridDef
  readonly overrides: ReadonlyArray<string>
  readonly expansion: Expansion
}

const show = (value: unknown): string => {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value) // JSON would say null
  try {
    const text = JSON.stringify(value, (_, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))
    return text === undefined ? String(value) : text.length > 120 ? text.slice(0, 117) + "..." : text
  } catch {
    return String(value)
  }
}

/** The first NaN/±Infinity inside a parsed value, as text, or null. */
const firstNonFinite = (value: unknown): string | null => {
  if (typeof value === "number") return Number.isFinite(value) ? null : String(value)
  if (value === null || typeof value !== "object") return null
  for (const v of Object.values(value)) {
    const found = firstNonFinite(v)
    if (found !== null) return found
  }
  return null
}

/** `a.b.c=value`: the value is JSON when it parses as JSON, else a plain string. */
export const applyOverride = (target: Record<string, unknown>, assignment: string): string | null => {
  const eq = assignment.indexOf("=")
  if (eq <= 0) return `expected path=value, got ${show(assignment)}`
  const path = assignment.slice(0, eq).trim().split(".")
  const raw = assignment.slice(eq + 1)
  let value: unknown = raw
  try {
    value = JSON.parse(raw)
  } catch {
    value = raw
  }
  const nonFinite = firstNonFinite(value)
  if (nonFinite !== null) return `expected a finite number, got ${raw} (${nonFinite} once parsed: beyond ±1.8e308)`
  let node: Record<string, unknown> = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (next === undefined) node[key] = {}
    else if (typeof next !== "object" || next === null || Array.isArray(next)) return `${path.join(".")}: ${key} is not an object`
    node = node[key] as Record<string, unknown>
  }
  node[path.at(-1)!] = value
  return null
}

const formatPath = (path: ReadonlyArray<PropertyKey>) =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("")

const valueAt = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (node, key) => (node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    root
  )

/** Grid files may import `tunegrid` and `effect` even when their own folder has neither installed. */
const aliases = (): Record<string, string> => {
  const out: Record<string, string> = { tunegrid: new URL("../index.ts", import.meta.url).pathname }
  try {
    out.effect = fileURLToPath(import.meta.resolve("effect"))
  } catch {
    // effect not resolvable from here: grids that import it must bring it themselves
  }
  return out
}

/** The field names valid where an unknown key was found (its parent path), for "did you mean". */
const knownKeys = (parent: ReadonlyArray<PropertyKey>): Array<string> => {
  const cell = Object.keys(CellConfig.fields)
  const head = parent[0]
  if (parent.length === 0) return Object.keys(GridDef.fields)
  if (head === "measure") return parent.length === 1 ? Object.keys(MeasureInput.fields) : ["every", "cell", "floor", "cap", "detect"]
  if (head === "cells") return ["label", "reference", "exclusive", ...cell]
  return cell // base, axes, exclude[i]
}

const importDefault = (file: string) =>
  Effect.tryPromise({
    try: async () => {
      const jiti = createJiti(import.meta.url, {
        moduleCache: false,
        fsCache: false,
        alias: aliases()
      })
      return await jiti.import<unknown>(file, { default: true })
    },
    catch: (cause) =>
      new GridInvalid({
        file,
        problems: [
          {
            path: "",
            message: `the file could not be loaded: ${cause instanceof Error ? cause.message.split("\n").slice(0, 6).join("\n    ") : String(cause)}`
          }
        ]
      })
  })

export const loadGrid = Effect.fnUntraced(function* (path: string, overrides: ReadonlyArray<string> = []) {
  const file = resolve(path)
  if (!existsSync(file)) {
    return yield* new GridInvalid({
      file: path,
      problems: [{ path: "", message: "no such file (expected a TypeScript grid file, e.g. experiments/demo.ts)" }]
    })
  }
  const sourceText = readFileSync(file, "utf8")
  let exported = yield* importDefault(file)
  if (Effect.isEffect(exported)) {
    exported = yield* (exported as Effect.Effect<unknown, unknown>).pipe(
      Effect.catchCause((cause) =>
        Effect.fail(
          new GridInvalid({
            file: path,
            problems: [{ path: "", message: `the grid's Effect failed while building the grid: ${String(cause)}` }]
          })
        )
      )
    )
  }
  if (exported === undefined || exported === null || typeof exported !== "object") {
    return yield* new GridInvalid({
      file: path,
      problems: [{ path: "", message: `expected a default export with a grid (defineGrid({...})), got ${show(exported)}` }]
    })
  }
  const raw = structuredClone(exported) as Record<string, unknown>
  for (const assignment of overrides) {
    const problem = applyOverride(raw, assignment)
    if (problem) return yield* new GridInvalid({ file: path, problems: [{ path: `--set ${assignment}`, message: problem }] })
  }
  const decoded = Schema.decodeUnknownResult(GridDef)(raw, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(decoded)) {
    const issues = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues
    return yield* new GridInvalid({
      file: path,
      problems: issues.map((issue) => {
        const at = (issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
        const value = valueAt(raw, at)
        const unknownKey = /excess property/i.test(issue.message)
        return {
          path: formatPath(at),
          message: unknownKey
            ? `unknown field (value ${show(value)})${didYouMean(String(at.at(-1)), knownKeys(at.slice(0, -1)))}; check the spelling against the fields in src/grid/schema.ts`
            : `${issue.message}, got ${show(value)}`
        }
      })
    })
  }
  const def = decoded.success
  const expanded = expandGrid(def)
  const { expansion } = expanded
  // the checks against the files a grid names, once the grid itself holds together
  const problems = expanded.problems.length > 0 ? expanded.problems : checkCells(def, expansion.cells, { baseDir: dirname(file) })
  if (problems.length > 0) return yield* gridInvalid(path, problems)
  return { file, sourceText, def, overrides, expansion } satisfies LoadedGrid
})
