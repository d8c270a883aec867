// Environment probe: asks the trainer's Python for the facts its `started` event would report,
// so the environment hash (and with it resume) is known before any cell runs.
import { Effect, Result, Schema } from "effect"
import { execa } from "execa"
import { trainerDir } from "../cells.ts"
import { EnvFacts } from "../protocol.ts"
import { pythonEnv } from "./python.ts"

export class ProbeFailed extends Schema.TaggedError<ProbeFailed>()("ProbeFailed", { message: Schema.String }) {}

export const probeEnvironment = (python: string) =>
  Effect.gen(function* () {
    const r = yield* Effect.promise(() =>
      execa(python, ["-m", "tunegrid_trainer.env"], { cwd: trainerDir, env: pythonEnv(), reject: false, timeout: 120_000 })
    )
    if (r.failed) {
      const why =
        r.code === "ENOENT"
          ? `${python} not found`
          : `exit ${r.exitCode ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-5).join("\n  ")}`
      return yield* new ProbeFailed({
        message: `the trainer's Python could not report its environment (${why}); run \`npx tunegrid doctor\``
      })
    }
    const decoded = Schema.decodeUnknownResult(Schema.fromJsonString(EnvFacts))(String(r.stdout).trim(), { onExcessProperty: "ignore" })
    if (Result.isFailure(decoded)) {
      return yield* new ProbeFailed({ message: `python -m tunegrid_trainer.env printed something unexpected: ${decoded.failure.message}` })
    }
    return decoded.success
  })
