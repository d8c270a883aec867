// The whole screen: finished rows printed once in <Static> (under the title and column heads),
// then the live part — running and queued rows, the current-cell panel (a local pool: one lane
// per slot, lanes.ts), the counts with elapsed
// time and ETA, help — and the keys: q stop, s skip, ? help, Ctrl-C like q, a second q/Ctrl-C forces.
import { Box, Static, Text, useInput, useStdin, useWindowSize } from "ink"
import { createElement as h, Fragment, useEffect, useState, type ReactNode } from "react"
import { useRunState, type RunStore } from "./bridge.ts"
import { CurrentPanel, type MeasureView } from "./current.ts"
import { Lanes, lanesHeight } from "./lanes.ts"
import { duration, etaSeconds } from "./live.ts"
import { axisNames, countRows, finishedDurations, finishedStatuses, type RunState } from "./state.ts"
import { ColumnHeads, layoutFor, RowLine, Title, type Layout } from "./table.ts"

/** What the keys do to the runner (wired by render.ts; tests pass recorders). */
export interface Keys {
  /** Ask the current run to stop and be recorded as skipped; false when nothing is running. */
  readonly skip: () => boolean
  /** Stop after recording the current run as interrupted; start no more. */
  readonly quit: () => void
  /** Stop now (the second q / Ctrl-C). */
  readonly force: () => void
}

const QUEUED_SHOWN = 10
/** Lines the live part needs besides its rows: the current-cell panel (10; a pool's lanes take
 * lanesHeight instead), the status (3), the "… more queued" line and the column heads (1 each). */
const LIVE_FIXED = 15
const PANEL = 10

const HELP = [
  "q        stop: the current run is recorded as interrupted, no more start; run again to resume",
  "s        skip the current cell (recorded as skipped; it runs again next time)",
  "Ctrl-C   like q; press q or Ctrl-C a second time to force an immediate stop",
  "?        show or hide this help"
]

const KeyHandler = ({ store, keys, onHelp }: { readonly store: RunStore; readonly keys: Keys; readonly onHelp: () => void }): ReactNode => {
  useInput((input, key) => {
    if (input === "q" || (key.ctrl && input === "c")) {
      if (store.getSnapshot().request === "quit" || store.getSnapshot().request === "force") {
        store.dispatch({ type: "request", what: "force" })
        keys.force()
      } else {
        store.dispatch({ type: "request", what: "quit" })
        keys.quit()
      }
    } else if (input === "s") {
      if (keys.skip()) store.dispatch({ type: "request", what: "skip" })
    } else if (input === "?") {
      onHelp()
    }
  })
  return null
}

type StaticItem = { readonly key: "title" } | { readonly key: "heads" } | { readonly key: string; readonly position: string }

export const StatusLine = ({ state, now }: { readonly state: RunState; readonly now: number }): ReactNode => {
  const c = countRows(state.rows)
  const elapsed = state.startedAt === null ? null : (now - state.startedAt) / 1000
  const queued = state.rows.filter((r) => r.status === "queued").length
  const parallel = state.plan?.slots?.length ?? 1 // a pool's slots take the queued runs side by side
  const eta = state.summary
    ? 0
    : etaSeconds(finishedDurations(state.rows), queued / parallel, state.current ? (now - state.current.startedAt) / 1000 : null)
  const request =
    state.request === "quit"
      ? "stopping after this run is recorded (q again forces)…"
      : state.request === "force"
        ? "forcing stop…"
        : state.request === "skip"
          ? "skipping this cell…"
          : null
  return h(
    Box,
    { flexDirection: "column" },
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { color: "green" }, `done ${c.done}`),
      ` · resumed ${c.resumed} · `,
      h(Text, { color: "magenta" }, `skipped ${c.skipped}`),
      " · ",
      h(Text, c.failed > 0 ? { color: "red" } : {}, `failed ${c.failed}`),
      c.interrupted > 0 ? ` · interrupted ${c.interrupted}` : "",
      ` · left ${c.left} · elapsed ${duration(elapsed)} · ETA ${eta === null ? "—" : duration(eta)}`
    ),
    request ? h(Text, { color: "yellow" }, request) : null,
    state.summary ? h(Text, { bold: true }, summaryText(state.summary)) : h(Text, { dimColor: true }, "q stop · s skip cell · ? help")
  )
}

export const summaryText = (counts: Record<string, number>): string => {
  const parts = Object.entries(counts)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ")
  return (counts.left ?? 0) > 0 ? `stopped: ${parts}; run the same command again to resume` : `finished: ${parts || "nothing to run"}`
}

export const App = ({
  store,
  keys,
  now = Date.now
}: {
  readonly store: RunStore
  readonly keys: Keys
  readonly now?: () => number
}): ReactNode => {
  const state = useRunState(store)
  const [time, setTime] = useState(now())
  const [help, setHelp] = useState(false)
  const { isRawModeSupported } = useStdin()
  const size = useWindowSize()
  useEffect(() => {
    const timer = setInterval(() => setTime(now()), 1000) // elapsed and ETA tick once a second
    return () => clearInterval(timer)
  }, [now])
  const t = Math.max(time, state.startedAt ?? 0)

  const layout: Layout = layoutFor(state.rows, axisNames(state.rows), size.columns)
  const byPosition = new Map(state.rows.map((r) => [r.position, r]))
  const items: Array<StaticItem> =
    state.plan === null ? [] : [{ key: "title" }, { key: "heads" }, ...state.finished.map((p) => ({ key: `row ${p}`, position: p }))]
  const live = state.rows.filter((r) => !finishedStatuses.has(r.status))
  // as many live rows as fit under the panel, so the frame never outgrows the terminal (a taller
  // frame scrolls and smears); the column heads come back above them once the first ones scroll off
  const slots = state.plan?.slots
  const fixed = LIVE_FIXED - PANEL + (slots ? lanesHeight(slots.length) : PANEL)
  const fitting = Math.max(1, Math.min(QUEUED_SHOWN + (slots?.length ?? 1), size.rows - fixed - (help ? HELP.length + 2 : 0)))
  const shown = live.slice(0, fitting)
  const headsOffScreen = state.plan !== null && 3 + state.finished.length + shown.length + fixed > size.rows
  return h(
    Fragment,
    null,
    h(Static<StaticItem>, {
      items,
      children: (item: StaticItem) =>
        item.key === "title"
          ? h(Title, { key: item.key, plan: state.plan! })
          : item.key === "heads"
            ? h(ColumnHeads, { key: item.key, layout })
            : h(RowLine, { key: item.key, row: byPosition.get((item as { position: string }).position)!, layout })
    }),
    state.plan === null ? h(Text, { dimColor: true }, "loading the grid and probing the environment…") : null,
    headsOffScreen && shown.length > 0 ? h(ColumnHeads, { layout }) : null,
    ...shown.map((row) => h(RowLine, { key: row.position, row, layout })),
    live.length > shown.length ? h(Text, { dimColor: true }, `… ${live.length - shown.length} more queued`) : null,
    slots
      ? h(Lanes, { slots, running: state.running, rows: byPosition, now: t })
      : state.current
        ? h(CurrentPanel, {
            current: state.current,
            row: byPosition.get(state.current.position),
            measure: (state.plan?.measure ?? {}) as MeasureView,
            now: t
          })
        : null,
    h(StatusLine, { state, now: t }),
    help ? h(Box, { flexDirection: "column", borderStyle: "single", paddingX: 1 }, ...HELP.map((l, i) => h(Text, { key: i }, l))) : null,
    isRawModeSupported ? h(KeyHandler, { store, keys, onHelp: () => setHelp((v) => !v) }) : null
  )
}
