// The speed levers cross the TypeScript → Python boundary intact: every cell of the shipped speed
// grids resolves into a spec the trainer's own decoder accepts, with the lever values the grid
// asked for; a lever value the trainer does not know is rejected before anything runs.
import { Effect, Exit } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, trainerDir } from "../src/cells.ts"
import { GridInvalid, loadGrid } from "../src/grid/load.ts"
import { writePlan } from "../src/ingest.ts"
import { findPython, PythonNotFound, pythonEnv } from "../src/trainer/python.ts"

const python = findPython(null)
const decode = `
import json, sys
from tunegrid_trainer.spec import load_spec
out = {}
for path in sys.argv[1:]:
    s = load_spec(path)
    out[s.cell_hash] = [s.padding, s.loss_kernel, s.gradient_checkpointing, s.compile, s.tokens_per_step]
print(json.dumps(out))
`

describe("speed levers in grids", () => {
  it.skipIf(python instanceof PythonNotFound)("every speed-grid cell becomes a spec the trainer decodes, levers included", async () => {
    const py = python as { python: string }
    for (const grid of ["experiments/speed-h100.ts", "experiments/rtx4060-speed.ts"]) {
      const loaded = await Effect.runPromise(loadGrid(join(repoRoot, grid)))
      const out = mkdtempSync(join(tmpdir(), "tunegrid-speed-"))
      const manifest = writePlan(loaded, out, "/tmp/tok")
      const decoded = JSON.parse(
        execFileSync(py.python, ["-c", decode, ...manifest.runs.map((r) => join(out, r.file))], {
          cwd: trainerDir,
          env: { ...process.env, ...pythonEnv() }
        }).toString()
      ) as Record<string, [string, string, boolean | "auto", boolean, number | null]>
      for (const cell of manifest.cells) {
        const c = cell.config
        expect(decoded[cell.cellHash], `${grid} ${cell.label}`).toEqual([
          c.padding,
          c.lossKernel,
          c.gradientCheckpointing,
          c.compile,
          c.tokensPerStep
        ])
      }
      if (grid.includes("speed-h100")) {
        const best = manifest.cells.find((c) => c.label === "packed-fused-16k-compile")!
        expect(decoded[best.cellHash]).toEqual(["packed", "fused", "auto", true, 16384])
      }
    }
  })

  it("rejects a padding the trainer does not know, naming the field and the allowed values", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tunegrid-speed-")), "bad.ts")
    writeFileSync(file, `export default { name: "bad", base: { padding: "padded" }, axes: { tokensPerStep: [0] } }\n`)
    const exit = await Effect.runPromiseExit(loadGrid(file))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
    const e = (error as { error: GridInvalid } | undefined)?.error
    expect(e).toBeInstanceOf(GridInvalid)
    expect(e!.problems).toEqual(
      expect.arrayContaining([
        { path: "base.padding", message: expect.stringMatching(/dynamic.*packed.*got "padded"|got "padded"/) },
        { path: "axes.tokensPerStep[0]", message: expect.stringMatching(/0/) }
      ])
    )
  })
})
