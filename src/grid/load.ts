// Loading a grid file: import the TypeScript module (jiti), run it if it default-exports an
// Effect, apply --set overrides, and decode with Schema. Every failure names the file, the field
// path, the bad value and what was expected, before anything runs.
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { createJiti } from "jiti"
import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { expandGrid, type Expansion } from "./expand.ts"
import { GridDef } from "./schema.ts"

export class GridInvalid extends Schema.TaggedError<GridInvalid>()("GridInvalid", {
  file: Schema.String,
  problems: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  override get message() {
    return `invalid grid ${this.file}:\n` + this.problems.map((p) => `  ${p.path || "(grid)"}: ${p.message}`).join("\n")
  }
}

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
  path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined), root)

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
        problems: [{ path: "", message: `the file could not be loaded: ${cause instanceof Error ? cause.message.split("\n").slice(0, 6).join("\n    ") : String(cause)}` }]
      })
  })

export const loadGrid = Effect.fnUntraced(function*(path: string, overrides: ReadonlyArray<string> = []) {
  const file = resolve(path)
  if (!existsSync(file)) {
    return yield* new GridInvalid({ file: path, problems: [{ path: "", message: "no such file (expected a TypeScript grid file, e.g. experiments/demo.ts)" }] })
  }
  const sourceText = readFileSync(file, "utf8")
  let exported = yield* importDefault(file)
  if (Effect.isEffect(exported)) {
    exported = yield* (exported as Effect.Effect<unknown, unknown>).pipe(
      Effect.catchCause((cause) =>
        Effect.fail(new GridInvalid({ file: path, problems: [{ path: "", message: `the grid's Effect failed while building the grid: ${String(cause)}` }] }))
      )
    )
  }
  if (exported === undefined || exported === null || typeof exported !== "object") {
    return yield* new GridInvalid({ file: path, problems: [{ path: "", message: `expected a default export with a grid (defineGrid({...})), got ${show(exported)}` }] })
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
            ? `unknown field (value ${show(value)}); check the spelling against the cell fields in src/grid/schema.ts`
            : `${issue.message}, got ${show(value)}`
        }
      })
    })
  }
  const def = decoded.success
  const { expansion, problems } = expandGrid(def)
  if (problems.length > 0) {
    return yield* new GridInvalid({ file: path, problems: problems.map((p) => ({ path: p.path, message: `${p.expected}; got ${show(p.value)}` })) })
  }
  return { file, sourceText, def, overrides, expansion } satisfies LoadedGrid
})
