// The trainer's Python as the runner uses it, as one service: the environment it reports (with the
// source tree's git state, which the environment hash also covers), the checks only it can make
// before any trainer starts, and one cell's trainer + sampler run. `layer` runs real processes
// (execa); `layerTest` replays recorded JSON lines, so the scheduler is tested without processes.
import { Context, Effect, Layer } from "effect"
import { repoRoot } from "../cells.ts"
import { gitState } from "../env.ts"
import type { ExpandedCell, ExpandProblem } from "../grid/expand.ts"
import type { GridInvalid } from "../grid/load.ts"
import { missingLibraries } from "../grid/libraries.ts"
import type { GridDef } from "../grid/schema.ts"
import type { EnvFacts } from "../protocol.ts"
import { runCellProcesses, type CellProcessOptions } from "./CellProcess.ts"
import { checkDatasets } from "./datacheck.ts"
import type { Evidence } from "./outcome.ts"
import { spawnPrestart, type PrestartOptions, type Prestarted } from "./prestart.ts"
import { probeEnvironment, type ProbeFailed } from "./probe.ts"
import { replayCell, replayPrestart, type PrestartLog, type Replay } from "./replay.ts"

export interface GitState {
  readonly commit: string | null
  readonly dirty: boolean | null
}

export interface TrainerProcessShape {
  /** What the trainer's Python reports about this machine, and the git state of tunegrid's tree. */
  readonly environment: (python: string) => Effect.Effect<{ readonly facts: EnvFacts; readonly git: GitState }, ProbeFailed>
  /** Libraries the cells need that the trainer's Python lacks (problems, not a failure). */
  readonly missingLibraries: (python: string, def: GridDef, cells: ReadonlyArray<ExpandedCell>) => Effect.Effect<Array<ExpandProblem>>
  /** Every dataset row read once by the trainer's code; fails with GridInvalid naming the dataset. */
  readonly checkDatasets: (
    python: string,
    file: string,
    baseDir: string,
    cells: ReadonlyArray<ExpandedCell>
  ) => Effect.Effect<unknown, ProbeFailed | GridInvalid>
  /** One cell's trainer (and sampler) from start to exit, events handed over as they arrive. */
  readonly run: <E, R>(o: CellProcessOptions<E, R>) => Effect.Effect<Evidence, E, R>
  /** A cell's trainer started ahead, waiting for `go` (prestart.ts); `run` adopts it. */
  readonly prestart: (o: PrestartOptions) => Prestarted
}

export class TrainerProcess extends Context.Service<TrainerProcess, TrainerProcessShape>()("tunegrid/TrainerProcess") {
  /** Real Python processes. */
  static readonly layer = Layer.succeed(
    TrainerProcess,
    TrainerProcess.of({
      environment: (python) => Effect.map(probeEnvironment(python), (facts) => ({ facts, git: gitState(repoRoot) })),
      missingLibraries,
      checkDatasets,
      run: runCellProcesses,
      prestart: spawnPrestart
    })
  )

  /** No processes: the environment given here, every check passing, and each cell's trainer and
   * sampler replaying the lines `replay` picks for its spec (see replay.ts); what is done to
   * pre-started trainers goes to `prestarts`. */
  static readonly layerTest = (replay: Replay, facts: EnvFacts = testFacts, prestarts: PrestartLog = []) =>
    Layer.succeed(
      TrainerProcess,
      TrainerProcess.of({
        environment: () => Effect.succeed({ facts, git: { commit: null, dirty: null } }),
        missingLibraries: () => Effect.succeed([]),
        checkDatasets: () => Effect.succeed(new Map()),
        run: (o) => replayCell(o, replay),
        prestart: (o) => replayPrestart(o, replay, prestarts)
      })
    )
}

/** A CPU machine as the probe reports one. */
export const testFacts: EnvFacts = {
  python: "3.12.0",
  torch: "2.6.0",
  transformers: "4.50.0",
  peft: "0.15.0",
  accelerate: "1.5.0",
  bitsandbytes: null,
  cuda: null,
  cudnn: null,
  device: "cpu",
  gpu_name: null,
  gpu_memory_mib: null,
  gpu_uuid: null,
  driver: null,
  power_limit_w: null,
  os: "linux",
  cpu: "test",
  hostname: "test"
}
