import { describe, expect, it } from "vitest"
import { hashCell } from "../src/cells.ts"
import { expandGrid } from "../src/grid/expand.ts"
import { canonicalJson, hashJson } from "../src/hash.ts"

describe("hashing", () => {
  it("canonical JSON sorts keys at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}')
    expect(hashJson({ a: 1, b: 2 })).toBe(hashJson({ b: 2, a: 1 }))
  })

  it("rejects non-finite numbers instead of hashing them as null", () => {
    expect(() => canonicalJson({ lr: Number.NaN })).toThrow(/non-finite/)
  })

  it("gives a cell the same hash whatever the order its grid declared fields in", () => {
    const a = expandGrid({ name: "a", base: { r: 8, batchSize: 2 } }).expansion
    const b = expandGrid({ name: "b", base: { batchSize: 2, r: 8 } }).expansion
    expect(hashCell(a.cells[0]!, a.measure, "t", "d").cellHash).toBe(hashCell(b.cells[0]!, b.measure, "t", "d").cellHash)
  })

  it("changes the cell hash when the config, seed, measure, trainer or dataset changes", () => {
    const { cells, measure } = expandGrid({ name: "a", axes: { r: [8, 16] }, seeds: [1, 2] }).expansion
    const hashes = new Set([
      ...cells.map((c) => hashCell(c, measure, "t", "d").cellHash),
      hashCell(cells[0]!, { ...measure, maxSteps: 5 }, "t", "d").cellHash,
      hashCell(cells[0]!, measure, "t2", "d").cellHash,
      hashCell(cells[0]!, measure, "t", "d2").cellHash
    ])
    expect(hashes.size).toBe(7)
  })
})
