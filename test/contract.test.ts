// The two definitions of the trainer protocol (src/protocol.ts and tunegrid_trainer/protocol.py)
// must name the same fields, with the same required/optional split, for every event.
import { execFileSync } from "node:child_process"
import { SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { trainerDir } from "../src/cells.ts"
import { eventSchemas } from "../src/protocol.ts"
import { findPython, PythonNotFound, pythonEnv } from "../src/trainer/python.ts"

const python = findPython(null)

/** Field names of a struct schema, nested structs as dotted names ("model.params"). */
const fieldsOf = (ast: SchemaAST.AST, prefix = ""): Array<string> => {
  if (ast._tag !== "Objects") throw new Error(`not a struct: ${ast._tag}`)
  return ast.propertySignatures.flatMap((p) => {
    const name = prefix + String(p.name)
    return p.type._tag === "Objects" ? [name, ...fieldsOf(p.type, `${name}.`)] : [name]
  })
}

describe("trainer protocol contract", () => {
  it.skipIf(python instanceof PythonNotFound)("Python and TypeScript define the same fields for every event", () => {
    const py = python as { python: string }
    const dump = JSON.parse(execFileSync(py.python, ["-m", "tunegrid_trainer.protocol", "--dump"], { cwd: trainerDir, env: { ...process.env, ...pythonEnv() } }).toString()) as Record<string, { required: Array<string>; optional: Array<string> }>
    for (const [name, schema] of Object.entries(eventSchemas)) {
      const pyFields = dump[name]
      expect(pyFields, `python protocol lacks event ${name}`).toBeDefined()
      expect([...pyFields!.required, ...pyFields!.optional].sort(), `fields of ${name}`).toEqual(fieldsOf(schema.ast).sort())
    }
  })
})
