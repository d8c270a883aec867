// A local pool's slots taking a grid's pending runs (`run --slots N` / `--gpus …`): each slot takes
// the next run in order when it is free; a run of an `exclusive` cell waits until every other slot
// is idle and no other run starts until it ends (one permit per slot, an exclusive run takes them
// all, and runs claim their permits one at a time in order, so later runs cannot jump ahead of a
// waiting exclusive one). With `measure.sentinel`, each slot runs the sentinel cell itself: before
// its first run, after every `every` of its runs and after its last, so that drift is judged among
// the runs of one slot (one GPU; ledger/sentinel.sql).
import { Effect, Semaphore } from "effect"
import type { HashedCell } from "./cells.ts"
import type { RunStatus } from "./ledger/records.ts"
import type { Progress, RunControl } from "./progress.ts"
import type { Slot } from "./slots.ts"

/** One run a slot may take: a pending run of the grid, or a slot's own sentinel run. */
export interface PoolRun {
  readonly cell: HashedCell
  readonly repeat: number
  /** Occurrence of the sentinel cell (its repeat is the grid's repeats plus this); null for the grid's own runs. */
  readonly sentinel: number | null
  /** "3/12" for the grid's runs, "sentinel 4" for a slot's sentinel run. */
  readonly position: string
}

export interface PoolSentinel {
  readonly cell: HashedCell
  /** A slot runs the sentinel after this many of its own runs. */
  readonly every: number
  /** The grid's repeats: sentinel runs are numbered after them, so resume keeps them apart. */
  readonly repeats: number
  /** The first occurrence this runner numbers (after those the ledger holds for this grid and environment). */
  readonly first: number
}

export interface PoolOptions<E, R> {
  readonly slots: ReadonlyArray<Slot>
  /** The grid's runs not yet done, in order (without sentinel runs when `sentinel` is given). */
  readonly pending: ReadonlyArray<PoolRun>
  readonly sentinel: PoolSentinel | null
  readonly progress: Progress
  readonly control?: RunControl | undefined
  readonly run: (run: PoolRun, slot: Slot) => Effect.Effect<RunStatus, E, R>
}

/** Runs the pending runs on the slots; returns how many ended in each status and how many were left. */
export const runPool = <E, R>(o: PoolOptions<E, R>) =>
  Effect.gen(function* () {
    const room = yield* Semaphore.make(o.slots.length)
    const turn = yield* Semaphore.make(1)
    const counts: Record<string, number> = {}
    let next = 0 // pending runs claimed by a slot (taken, or held behind its opening sentinel)
    let started = 0 // pending runs started
    let occurrence = o.sentinel?.first ?? 0
    const quitting = () => o.control?.quitting === true

    const worker = (slot: Slot) =>
      Effect.gen(function* () {
        const s = o.sentinel
        let opened = false // this slot ran its first sentinel
        let since = 0 // this slot's grid runs since its last sentinel
        let held: PoolRun | null = null // the run this slot claimed before its opening sentinel
        const sentinelRun = (): PoolRun => ({
          cell: s!.cell,
          repeat: s!.repeats + occurrence,
          sentinel: occurrence,
          position: `sentinel ${occurrence}`
        })

        // What this slot runs next, with the permits it needs; null when it is done (or asked to stop).
        const claim = turn.withPermits(1)(
          Effect.gen(function* () {
            if (quitting()) return null
            let run: PoolRun
            let kind: "held" | "pending" | "opening" | "closing"
            if (s && since >= s.every) [run, kind] = [sentinelRun(), "closing"]
            else if (held) [run, kind] = [held, "held"]
            else if (next < o.pending.length) [run, kind] = s && !opened ? [sentinelRun(), "opening"] : [o.pending[next]!, "pending"]
            else if (s && since > 0) [run, kind] = [sentinelRun(), "closing"]
            else return null
            const need = run.cell.exclusive ? o.slots.length : 1
            yield* room.take(need)
            if (quitting()) {
              yield* room.release(need)
              return null
            }
            if (kind === "opening" || kind === "closing") {
              occurrence += 1
              since = 0
              opened = true
              if (kind === "opening") held = o.pending[next++]!
              o.progress.added?.({
                position: run.position,
                cellHash: run.cell.cellHash,
                repeat: run.repeat,
                label: run.cell.label,
                axisValues: run.cell.axisValues
              })
            } else {
              if (kind === "pending") next += 1
              held = null
              since += 1
              started += 1
            }
            return { run, need }
          })
        )

        while (true) {
          const claimed = yield* claim
          if (claimed === null) return
          const status = yield* o.run(claimed.run, slot).pipe(Effect.ensuring(room.release(claimed.need)))
          counts[status] = (counts[status] ?? 0) + 1
        }
      })

    // A failure that stops the grid (the ledger's own) interrupts the other slots' runs: recorded interrupted.
    yield* Effect.forEach(o.slots, worker, { concurrency: "unbounded", discard: true })
    return { counts, left: o.pending.length - started }
  })
