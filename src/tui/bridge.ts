// The one bridge between the runner and React: an external store fed with RunEvents (through a
// Progress) and keyboard requests, read by components through `useRunState`.
import { useSyncExternalStore } from "react"
import { eventProgress, type Progress } from "../progress.ts"
import { initialState, reduce, type Action, type RunState } from "./state.ts"

export interface RunStore {
  readonly dispatch: (action: Action) => void
  readonly subscribe: (listener: () => void) => () => void
  readonly getSnapshot: () => RunState
  /** A Progress whose calls become actions on this store. */
  readonly progress: Progress
}

export const makeRunStore = (now: () => number = Date.now): RunStore => {
  let state = initialState
  const listeners = new Set<() => void>()
  const dispatch = (action: Action) => {
    state = reduce(state, action)
    for (const l of listeners) l()
  }
  return {
    dispatch,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    getSnapshot: () => state,
    progress: eventProgress(dispatch, now)
  }
}

export const useRunState = (store: RunStore): RunState => useSyncExternalStore(store.subscribe, store.getSnapshot)
