// The README stays true to the code: its field reference is what the schema, the defaults and the
// field meanings render now (src/grid/fieldsDoc.ts), every cell field is in it, and the two set-up
// commands come first.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { FIELDS_BEGIN, FIELDS_END, renderFieldsReference } from "../src/grid/fieldsDoc.ts"
import { CellConfig } from "../src/grid/schema.ts"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("README", () => {
  it("holds the field reference as generated from the schema (npm run -s readme:fields rewrites it)", () => {
    const block = readme.slice(readme.indexOf(FIELDS_BEGIN) + FIELDS_BEGIN.length, readme.indexOf(FIELDS_END))
    expect(block.trim()).toBe(renderFieldsReference().trim())
    for (const key of Object.keys(CellConfig.fields)) expect(block).toContain(`| \`${key}\` |`)
  })

  it("starts with the two set-up commands: the demo grid, then the tests", () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim())
    expect(blocks.slice(0, 2)).toEqual(["npm install && npm run demo", "npm install && npm test"])
  })
})
