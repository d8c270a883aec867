// Planned runs onto job arrays within the cluster's limits, the sbatch options from the grid and
// the flags, and the script every task runs.
import { describe, expect, it } from "vitest"
import { arrayChunks, batchScript } from "../../src/slurm/job.ts"
import { flagProblems, resolveOptions } from "../../src/slurm/options.ts"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("job arrays", () => {
  it("splits a plan longer than MaxArraySize into arrays whose task ids stay below it", () => {
    const chunks = arrayChunks(range(2500), { maxArraySize: 1001, maxArrayTasks: null })
    expect(chunks.map((c) => [c.offset, c.taskIds.length, c.taskIds[0], c.taskIds.at(-1)])).toEqual([
      [0, 1001, 0, 1000],
      [1001, 1001, 0, 1000],
      [2002, 498, 0, 497]
    ])
    // every planned run exactly once
    expect(chunks.flatMap((c) => c.taskIds.map((t) => t + c.offset))).toEqual(range(2500))
  })

  it("also keeps each array within max_array_tasks", () => {
    const chunks = arrayChunks(range(1200), { maxArraySize: 1001, maxArrayTasks: 400 })
    expect(chunks.map((c) => [c.offset, c.taskIds.length])).toEqual([
      [0, 400],
      [0, 400],
      [0, 201],
      [1001, 199]
    ])
    expect(chunks.every((c) => c.taskIds.every((t) => t < 1001))).toBe(true)
  })

  it("resubmits scattered runs with the offset of their block", () => {
    expect(arrayChunks([1003, 5, 7, 2001], { maxArraySize: 1001, maxArrayTasks: null })).toEqual([
      { offset: 0, taskIds: [5, 7] },
      { offset: 1001, taskIds: [2, 1000] }
    ])
  })
})

describe("sbatch options", () => {
  const job = { name: "g", logs: "/shared/j/logs", cpuOnly: false }

  it("takes the grid's options and lets flags override them", () => {
    const r = resolveOptions(
      { partition: "a100", time: "1:00:00", parallel: 4, sbatch: ["--qos=low"] },
      { time: "2:00:00", sbatch: ["--constraint=h100"] },
      job
    )
    expect(r.sbatch).toEqual([
      "--job-name=tunegrid-g",
      "--output=/shared/j/logs/%A_%a.out",
      "--open-mode=append",
      "--partition=a100",
      "--time=2:00:00",
      "--gres=gpu:1",
      "--qos=low",
      "--constraint=h100"
    ])
    expect(r.options.parallel).toBe(4)
  })

  it("asks for one GPU per task unless told otherwise, and none for a grid that runs on the CPU", () => {
    expect(resolveOptions(undefined, { gpus: 2 }, job).sbatch).toContain("--gres=gpu:2")
    expect(resolveOptions(undefined, { gpus: 0 }, job).sbatch.some((o) => o.startsWith("--gres"))).toBe(false)
    expect(resolveOptions({ gres: "gpu:h100:1" }, {}, job).sbatch).toContain("--gres=gpu:h100:1")
    const cpu = resolveOptions(undefined, {}, { ...job, cpuOnly: true })
    expect(cpu.sbatch.some((o) => o.startsWith("--gres"))).toBe(false)
    expect(cpu.notes[0]).toMatch(/no GPU requested/)
    expect(resolveOptions(undefined, { gpus: 1 }, { ...job, cpuOnly: true }).sbatch).toContain("--gres=gpu:1")
  })

  it("names a bad flag before anything is submitted", () => {
    expect(flagProblems({ time: "90 minutes", parallel: 0, sbatch: ["--array=0-3", "qos"] })).toEqual([
      `--time "90 minutes": expected Slurm's time forms (minutes, MM:SS, HH:MM:SS, D-HH:MM:SS), e.g. 1:30:00`,
      "--parallel 0: expected a whole number ≥ 1",
      "--sbatch --array=0-3: tunegrid sets --array, --output and --parsable itself",
      `--sbatch "qos": expected one sbatch option such as --qos=high`
    ])
    expect(flagProblems({ time: "2-12:00:00", gpus: 0, sbatch: ["--qos=high"] })).toEqual([])
  })

  it("writes a script that runs the task's planned run by offset + SLURM_ARRAY_TASK_ID, quoting paths", () => {
    const script = batchScript({
      gridName: "g",
      repo: "/home/o'neil/tunegrid",
      python: "/opt/py/bin/python",
      plan: "/j/plan",
      runs: "/j/runs",
      samplerMode: "auto"
    })
    expect(script).toContain(`cd '/home/o'\\''neil/tunegrid'`)
    expect(script).toContain(`exec '/opt/py/bin/python' -m tunegrid_trainer.batch '/j/plan' --out '/j/runs'`)
    expect(script).toContain(`--index "$((offset + SLURM_ARRAY_TASK_ID))"`)
  })
})
