// The fit search exists twice: src/fit/bisect.ts (tunegrid fit) and tunegrid_trainer/fit_search.py
// (python -m tunegrid_trainer.fit on a machine without Node). Both must probe the same values and
// reach the same frontier for the same outcomes.
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { trainerDir } from "../../src/cells.ts"
import { search, type Bounds } from "../../src/fit/bisect.ts"
import { findPython, PythonNotFound, pythonEnv } from "../../src/trainer/python.ts"

const python = findPython(null)

const lattice = (b: Bounds) => Array.from({ length: Math.floor((b.max - b.min) / b.unit) + 1 }, (_, k) => b.min + k * b.unit)
const batch = (start: number): Bounds => ({ min: 1, max: 256, unit: 1, start })
const tokens: Bounds = { min: 2048, max: 65536, unit: 256, start: 4096 }

// each case: the bounds and the values that fit
const cases: Array<{ bounds: Bounds; fit: Array<number> }> = [
  ...[0, 1, 3, 37, 255, 256].flatMap((t) =>
    [1, 8, 256].map((start) => ({ bounds: batch(start), fit: lattice(batch(start)).filter((v) => v <= t) }))
  ),
  { bounds: tokens, fit: lattice(tokens).filter((v) => v <= 11_000) },
  { bounds: { ...tokens, start: 65536 }, fit: lattice(tokens).filter((v) => v <= 30_000) },
  { bounds: batch(2), fit: [1, 2, 3, 8, 9] } // not monotone
]

const py = `
import json, sys
from tunegrid_trainer.fit_search import Bounds, Done, next_probe
out = []
for c in json.load(sys.stdin):
    b, fit, outcomes, probed = Bounds(**c["bounds"]), set(c["fit"]), {}, []
    while True:
        n = next_probe(outcomes, b)
        if isinstance(n, Done):
            out.append({"frontier": n.frontier, "reason": n.reason, "probed": probed})
            break
        probed.append(n)
        outcomes[n] = n in fit
print(json.dumps(out))
`

describe.skipIf(python instanceof PythonNotFound)("the fit search in TypeScript and in Python", () => {
  it("probes the same values and decides the same frontier, for the same reason", () => {
    const out = execFileSync((python as { python: string }).python, ["-c", py], {
      cwd: trainerDir,
      env: { ...process.env, ...pythonEnv() },
      input: JSON.stringify(cases)
    })
    const fromPython = JSON.parse(out.toString()) as Array<unknown>
    const fromTs = cases.map((c) => search((v) => c.fit.includes(v), c.bounds))
    expect(fromPython).toEqual(fromTs)
    expect(fromTs.map((r) => r.frontier)).toContain(37)
  })
})
