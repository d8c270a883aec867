// The grid's data preflight, before any trainer starts: every distinct dataset the cells name
// (file or hub, with its split, subset and column mapping) is read once, row by row, by the
// trainer's own readers (`python -m tunegrid_trainer.dataset_check`), which say which format it
// holds or which row is wrong (file, row, field, what was expected). Then each cell's loss fields
// are checked against its data's format. Any problem refuses the grid, in the grid's terms.
import { Effect } from "effect"
import { execa } from "execa"
import { resolve } from "node:path"
import { trainerDir } from "../cells.ts"
import type { ExpandedCell } from "../grid/expand.ts"
import { GridInvalid } from "../grid/load.ts"
import { canonicalJson } from "../hash.ts"
import { ProbeFailed } from "./probe.ts"
import { pythonEnv } from "./python.ts"

export type DataFormat = "language_modeling" | "prompt_completion" | "conversational" | "conversational_prompt_completion" | "alpaca"

interface Request {
  readonly key: string
  readonly source: "file" | "hub"
  readonly path: string | null
  readonly name: string | null
  readonly split: string | null
  readonly subset: string | null
  readonly columns: Readonly<Record<string, string>> | null
}

type Reply = { key: string; ok: true; format: DataFormat; rows: number } | { key: string; ok: false; kind: string; message: string }

const describe: Record<DataFormat, string> = {
  language_modeling: "language modelling (text)",
  prompt_completion: "prompt-completion (prompt, completion)",
  conversational: "conversational (messages)",
  conversational_prompt_completion: "conversational prompt-completion",
  alpaca: "Alpaca (instruction, input, output)"
}

/** The dataset a cell reads, as the preflight request names it; null when nothing is read here. */
const requestOf = (cell: ExpandedCell, baseDir: string): Request | null => {
  const c = cell.config
  if (c.trainer === "script" || c.dataset === "synthetic") return null // a script reads its own data
  const file = c.dataset.startsWith("file:")
  const request = {
    source: file ? "file" : "hub",
    path: file ? resolve(baseDir, c.dataset.slice("file:".length)) : null,
    name: file ? null : c.dataset.slice("hub:".length),
    split: file ? null : c.datasetSplit,
    subset: file ? null : c.datasetSubset,
    columns: c.datasetColumns
  } as const
  return { key: canonicalJson(request), ...request }
}

/** Why a cell's loss fields do not fit its data's format (formats.py `loss_rule_problem`), or null. */
const lossProblem = (cell: ExpandedCell, format: DataFormat): { field: string; expected: string } | null => {
  const c = cell.config
  if (c.assistantOnlyLoss && format !== "conversational" && format !== "conversational_prompt_completion") {
    return {
      field: "assistantOnlyLoss",
      expected: `false: assistant-only loss needs conversational rows (messages); ${c.dataset} holds ${describe[format]} rows`
    }
  }
  if (c.completionOnlyLoss === true && !["prompt_completion", "conversational_prompt_completion", "alpaca"].includes(format)) {
    return {
      field: "completionOnlyLoss",
      expected: `null or false: completion-only loss needs prompt-completion or Alpaca rows; ${c.dataset} holds ${describe[format]} rows`
    }
  }
  return null
}

const cellName = (cell: ExpandedCell) => `cell ${cell.index + 1}${cell.label ? ` "${cell.label}"` : ""}`

/** Check the grid's datasets; fails with GridInvalid naming the dataset (or cell) and the row. */
export const checkDatasets = (python: string, file: string, baseDir: string, cells: ReadonlyArray<ExpandedCell>) =>
  Effect.gen(function* () {
    const byKey = new Map<string, { request: Request; cells: Array<ExpandedCell> }>()
    for (const cell of cells) {
      const request = requestOf(cell, baseDir)
      if (request === null) continue
      const entry = byKey.get(request.key) ?? { request, cells: [] }
      entry.cells.push(cell)
      byKey.set(request.key, entry)
    }
    if (byKey.size === 0) return new Map<string, DataFormat>()
    const r = yield* Effect.promise(() =>
      execa(python, ["-m", "tunegrid_trainer.dataset_check"], {
        cwd: trainerDir,
        env: pythonEnv(),
        reject: false,
        input: JSON.stringify({ datasets: [...byKey.values()].map((e) => e.request) })
      })
    )
    if (r.failed) {
      const why =
        r.code === "ENOENT"
          ? `${python} not found`
          : `exit ${r.exitCode ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-5).join("\n  ")}`
      return yield* new ProbeFailed({ message: `the trainer's Python could not check the grid's datasets (${why})` })
    }
    const replies = (JSON.parse(String(r.stdout)) as { results: Array<Reply> }).results
    const problems: Array<{ path: string; message: string }> = []
    const formats = new Map<string, DataFormat>()
    for (const reply of replies) {
      const { cells: users } = byKey.get(reply.key)!
      const where = `dataset ${users[0]!.config.dataset} (${users.length === 1 ? cellName(users[0]!) : `${users.length} cells`})`
      if (!reply.ok) {
        problems.push({ path: where, message: reply.message })
        continue
      }
      formats.set(reply.key, reply.format)
      for (const cell of users) {
        const problem = lossProblem(cell, reply.format)
        if (problem) problems.push({ path: `${cellName(cell)}: ${problem.field}`, message: `${problem.expected}; got true` })
      }
    }
    if (problems.length > 0) return yield* new GridInvalid({ file, problems })
    return formats
  })
