// The two definitions of the trainer protocol (src/protocol.ts and tunegrid_trainer/protocol.py)
// must name the same fields, with the same required/optional split, for every event; and the cell
// spec the runner sends (src/cells.ts toSpec) must have exactly the keys, variants and enum values
// the trainer decodes (tunegrid_trainer/cellspec.py), and decode there.
import { execFileSync } from "node:child_process"
import { SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { hashCell, toSpec, trainerDir } from "../src/cells.ts"
import { expandGrid } from "../src/grid/expand.ts"
import type { GridDef, PartialCell } from "../src/grid/schema.ts"
import { eventSchemas } from "../src/protocol.ts"
import { findPython, PythonNotFound, pythonEnv } from "../src/trainer/python.ts"

const python = findPython(null)

interface Shape {
  readonly required: Array<string>
  readonly optional: Array<string>
  readonly enums: Record<string, Array<unknown>>
}

const dump = (): Record<string, Shape> => {
  const py = python as { python: string }
  return JSON.parse(
    execFileSync(py.python, ["-m", "tunegrid_trainer.protocol", "--dump"], {
      cwd: trainerDir,
      env: { ...process.env, ...pythonEnv() }
    }).toString()
  )
}

/** Today's shape of a struct, or of a union of shapes whose first is today's and the rest what
 * older trainers sent (still decoded; `DataFacts`). */
const current = (ast: SchemaAST.AST): SchemaAST.AST => (ast._tag === "Union" && ast.types[0]?._tag === "Objects" ? ast.types[0] : ast)

/** Field names of a struct schema, nested structs as dotted names ("model.params"). */
const fieldsOf = (ast: SchemaAST.AST, prefix = ""): Array<string> => {
  if (ast._tag !== "Objects") throw new Error(`not a struct: ${ast._tag}`)
  return ast.propertySignatures.flatMap((p) => {
    const name = prefix + String(p.name)
    const type = current(p.type)
    return type._tag === "Objects" ? [name, ...fieldsOf(type, `${name}.`)] : [name]
  })
}

/** The dump's paths of a spec value: dotted keys, a union's variant in brackets ("model[preset].name",
 * "measure.window[adaptive].adaptive"), lists and nulls as leaves; with each leaf's value. */
const pathsOf = (value: unknown, unions: Set<string>, prefix = ""): Array<[string, unknown]> =>
  Object.entries(value as Record<string, unknown>).flatMap(([key, v]): Array<[string, unknown]> => {
    const path = prefix + key
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [[path, v]]
    const o = v as Record<string, unknown>
    const inner = unions.has(path) ? `${path}[${typeof o.source === "string" ? o.source : Object.keys(o)[0]}].` : `${path}.`
    return [[path, v], ...pathsOf(v, unions, inner)]
  })

/** Cells that between them take every variant of the spec: each model and data source, QLoRA,
 * every trainer, both warm-ups' kinds and windows, a VRAM budget. */
const cells: Array<PartialCell> = [
  { model: "preset:tiny", method: "qlora", dataset: "synthetic", vramBudget: "8GB" },
  {
    model: "hub:org/model",
    tokenizer: "model",
    dataset: "hub:org/data",
    datasetSubset: "s",
    datasetColumns: { text: "body" },
    trainer: "hf"
  },
  {
    model: "local:./m",
    dataset: "file:rows.jsonl",
    datasetColumns: { prompt: "q" },
    trainer: "trl",
    lossKernel: "fused",
    completionOnlyLoss: true
  },
  { trainer: "script", script: "train.py", scriptArgs: ["--seed", "{seed}"], tokenizer: "file:./tok" }
]
const measures: ReadonlyArray<GridDef["measure"]> = [
  { warmup: "detect", window: "adaptive", ciTarget: 0.05, minWindow: "10s", maxDuration: "2m" },
  { warmup: "3 steps", window: "20 steps", ciTarget: null },
  { warmup: "5s", window: "30s" }
]
const specs = () =>
  measures.flatMap((measure) => {
    const { expansion, problems } = expandGrid({ name: "contract", cells, seeds: [1], measure } as GridDef)
    expect(problems).toEqual([])
    return expansion.cells.map((cell) =>
      toSpec(hashCell(cell, expansion.measure, "t", "d"), expansion.measure, "run", { baseDir: "/grid", tokenizerDir: "/tok" })
    )
  })

describe("trainer protocol contract", () => {
  it.skipIf(python instanceof PythonNotFound)("Python and TypeScript define the same fields for every event", () => {
    const shapes = dump()
    for (const [name, schema] of Object.entries(eventSchemas)) {
      const pyFields = shapes[name]
      expect(pyFields, `python protocol lacks event ${name}`).toBeDefined()
      expect([...pyFields!.required, ...pyFields!.optional].sort(), `fields of ${name}`).toEqual(fieldsOf(schema.ast).sort())
    }
  })

  it.skipIf(python instanceof PythonNotFound)("the spec the runner sends has the keys, variants and values the trainer decodes", () => {
    const shape = dump().spec!
    const known = new Set([...shape.required, ...shape.optional])
    const unions = new Set([...known].flatMap((p) => (p.includes("[") ? [p.slice(0, p.lastIndexOf("["))] : [])))
    const seen = new Set<string>()
    for (const spec of specs()) {
      const paths = pathsOf(spec, unions)
      const sent = new Map(paths)
      for (const [path, value] of paths) {
        seen.add(path)
        expect(known.has(path), `spec key ${path} is not in the trainer's spec (cellspec.py)`).toBe(true)
        if (value === null) expect(shape.optional, `spec.${path} is null but the trainer requires it`).toContain(path)
        const allowed = shape.enums[path]
        if (allowed !== undefined && value !== null) expect(allowed, `spec.${path}`).toContain(value)
      }
      // every key the trainer requires is sent, wherever its parent object (and variant) is
      for (const path of shape.required) {
        const parent = path.includes(".") ? path.slice(0, path.lastIndexOf(".")).replace(/\[[^\]]*\]$/, "") : null
        const variant = path.match(/^(.*)\[([^\]]*)\]\.[^.[\]]+$/)
        if (parent !== null && (sent.get(parent) === null || !sent.has(parent))) continue
        if (variant !== null && ![...sent.keys()].some((k) => k.startsWith(`${variant[1]}[${variant[2]}].`))) continue
        expect(sent.has(path), `spec.${path} is required by the trainer but not sent`).toBe(true)
      }
    }
    // the cells above reach every key the trainer knows, so none goes unchecked
    expect([...known].filter((p) => !seen.has(p)).sort()).toEqual([])
  })

  it.skipIf(python instanceof PythonNotFound)("every such spec decodes in the trainer", () => {
    const py = python as { python: string }
    const script = `
import json, sys
from tunegrid_trainer.spec import decode_spec
print(json.dumps([decode_spec(raw).run_id for raw in json.loads(sys.stdin.read())]))
`
    const all = specs()
    const out = execFileSync(py.python, ["-c", script], {
      cwd: trainerDir,
      env: { ...process.env, ...pythonEnv() },
      input: JSON.stringify(all)
    }).toString()
    expect(JSON.parse(out)).toEqual(all.map(() => "run"))
  })
})
