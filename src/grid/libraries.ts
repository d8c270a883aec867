// Libraries a grid's cells need in the trainer's Python beyond the locked core, checked once
// before any trainer starts (a trainer would find out seconds into every cell): `datasets` for a
// dataset "hub:…". A find_spec in a bare interpreter: no torch import, well under a second.
import { Effect } from "effect"
import { execa } from "execa"
import type { ExpandedCell, ExpandProblem } from "./expand.ts"
import type { GridDef } from "./schema.ts"
import { fieldPath } from "./validate.ts"

const hasModule = (python: string, module: string) =>
  Effect.promise(() =>
    execa(python, ["-c", `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(${JSON.stringify(module)}) else 3)`], {
      reject: false,
      timeout: 60_000
    })
  ).pipe(Effect.map((r) => r.exitCode !== 3)) // anything but a clear "no" is left to the trainer

export const missingLibraries = (python: string, def: GridDef, cells: ReadonlyArray<ExpandedCell>): Effect.Effect<Array<ExpandProblem>> =>
  Effect.gen(function* () {
    const hub = cells.find((c) => c.config.dataset.startsWith("hub:"))
    if (hub === undefined || (yield* hasModule(python, "datasets"))) return []
    return [
      {
        path: fieldPath(def, hub.config, "dataset"),
        value: hub.config.dataset,
        expected: `a dataset the trainer can load: "hub:…" needs the datasets library, which ${python} does not have (uv pip install --python ${python} datasets, or pip install 'tunegrid-trainer[hub]')`
      }
    ]
  })
