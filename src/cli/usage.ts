// How the CLI answers a call it cannot run: bare `tunegrid` prints the help (exit 0); a missing
// or bad flag or argument prints one line per problem and where the usage is (exit 1), not the
// whole help followed by "error: Help requested".
import { Effect, Layer } from "effect"
import { CliOutput } from "effect/cli"

export const usagePresenter = Layer.unwrap(
  Effect.sync(() =>
    CliOutput.layerPresenter({
      present: (event) => {
        if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
        return Effect.sync(() => {
          for (const e of event.errors) console.error(`error: ${e.message} (${event.commandPath.join(" ")} --help shows the usage)`)
        })
      }
    })
  )
)

/** The CLI's "help was shown" outcome: not an error to report again. Without problems (bare
 * `tunegrid`, or a command group alone) it is a success. */
export const helpShown = (error: unknown): { readonly problems: number } | null =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "ShowHelp"
    ? { problems: ((error as { errors?: ReadonlyArray<unknown> }).errors ?? []).length }
    : null
