// Mounting the TUI for the length of a run: Ink renders <App> over the store while the scheduler
// feeds it; keys reach the scheduler through RunControl; the final frame is flushed before unmount.
import { Effect } from "effect"
import { render } from "ink"
import { createElement as h } from "react"
import type { RunControl } from "../progress.ts"
import { App, type Keys } from "./App.ts"
import { makeRunStore, type RunStore } from "./bridge.ts"

/** Whether the Ink TUI can run here: stdout and stdin are terminals and this is not CI. */
export const tuiPossible = (env: NodeJS.ProcessEnv = process.env): boolean => {
  const ci = ["CI", "CONTINUOUS_INTEGRATION"].some((k) => env[k] !== undefined && env[k] !== "" && env[k] !== "0" && env[k] !== "false")
  return Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !ci
}

const keysFor = (control: RunControl): Keys => ({
  skip: () => control.skip(),
  quit: () => control.quit(),
  // Raw mode swallows the terminal's SIGINT, so raise it: the runtime interrupts the run, whose
  // finalizers stop the trainer and record the run as interrupted.
  force: () => void process.kill(process.pid, "SIGINT")
})

/** A scoped TUI: the store to feed, unmounted (after its last frame is drawn) when the scope closes. */
export const mountTui = (control: RunControl): Effect.Effect<RunStore, never, import("effect").Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const store = makeRunStore()
      const ink = render(h(App, { store, keys: keysFor(control) }), { exitOnCtrlC: false })
      return { store, ink }
    }),
    ({ ink, store }) =>
      Effect.promise(async () => {
        await ink.waitUntilRenderFlush()
        // Failed before the plan (a bad grid, no Python): leave only the error message on screen.
        if (store.getSnapshot().plan === null) ink.clear()
        ink.unmount()
        await ink.waitUntilExit()
      })
  ).pipe(Effect.map(({ store }) => store))
