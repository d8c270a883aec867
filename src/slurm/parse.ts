// Reading what Slurm's commands print: `scontrol show config`, `squeue`, `sacct` and `scontrol
// show job` lines, `sbatch --parsable`, and job-array index lists ("0-3,7,9-15:2%4"). Pure.

/** What tunegrid needs to know about the cluster before it submits or asks about tasks. */
export interface ClusterConfig {
  /** A job array's task ids run from 0 to MaxArraySize − 1 (Slurm's default MaxArraySize is 1001). */
  readonly maxArraySize: number
  /** SchedulerParameters max_array_tasks: at most this many tasks in one array (null: no such cap). */
  readonly maxArrayTasks: number | null
  /** AccountingStorageType; `accounting_storage/none` means sacct has nothing to say. */
  readonly accounting: string
  /** Seconds a finished job stays visible to `scontrol show job` (MinJobAge). */
  readonly minJobAgeS: number | null
}

export const parseConfig = (text: string): ClusterConfig => {
  const values = new Map<string, string>()
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line.trim())
    if (m) values.set(m[1]!, m[2]!.trim())
  }
  const maxArraySize = Number.parseInt(values.get("MaxArraySize") ?? "1001", 10)
  const tasks = /(?:^|,)max_array_tasks=(\d+)/.exec(values.get("SchedulerParameters") ?? "")
  const age = /^(\d+)/.exec(values.get("MinJobAge") ?? "")
  return {
    maxArraySize: Number.isFinite(maxArraySize) ? maxArraySize : 1001,
    maxArrayTasks: tasks ? Number.parseInt(tasks[1]!, 10) : null,
    accounting: values.get("AccountingStorageType") ?? "accounting_storage/none",
    minJobAgeS: age ? Number.parseInt(age[1]!, 10) : null
  }
}

/** `sbatch --parsable` prints "<job id>" or "<job id>;<cluster>". */
export const parseSubmitted = (stdout: string): string | null => {
  const m = /^(\d+)(?:;\S+)?\s*$/.exec(stdout.trim())
  return m ? m[1]! : null
}

/** "0-3,7,9-15:2%4" → [0,1,2,3,7,9,11,13,15] (the "%4" throttle is dropped). */
export const parseIndexList = (text: string): Array<number> => {
  const out: Array<number> = []
  for (const part of text
    .replace(/^\[|\]$/g, "")
    .replace(/%\d+$/, "")
    .split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim())
    if (!m) continue
    const first = Number(m[1])
    const last = m[2] === undefined ? first : Number(m[2])
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]))
    for (let i = first; i <= last; i += step) out.push(i)
  }
  return out
}

/** [0,1,2,3,7,9,10] → "0-3,7,9-10": the shortest `--array` list for these task ids. */
export const formatIndexList = (ids: ReadonlyArray<number>): string => {
  const sorted = [...new Set(ids)].sort((a, b) => a - b)
  const parts: Array<string> = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(",")
}

/** One array task as Slurm reports it. */
export interface TaskState {
  readonly arrayJobId: string
  readonly taskId: number
  /** The task's own job id (what SLURM_JOB_ID says inside it); null while it is pending. */
  readonly jobId: string | null
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, NODE_FAIL, OUT_OF_MEMORY… */
  readonly state: string
  readonly node: string | null
  readonly reason: string | null
  /** "exit:signal" as Slurm gives it, e.g. "0:15" for SIGTERM; null when not reported. */
  readonly exitCode: string | null
  /** Times Slurm requeued the task (preemption, node failure); null when not reported. */
  readonly restarts: number | null
  /** States of the task's earlier (requeued) executions, oldest first (sacct --duplicates). */
  readonly earlier: ReadonlyArray<string>
  readonly source: "squeue" | "sacct" | "scontrol"
}

export const taskKey = (arrayJobId: string, taskId: number | string) => `${arrayJobId}_${taskId}`

const orNull = (v: string | undefined) =>
  v === undefined || v === "" || v === "(null)" || v === "None" || v === "None assigned" ? null : v

/** The format tunegrid passes to `squeue -h -r -o`. */
export const squeueFormat = "%F|%K|%A|%T|%N|%r"

/** Lines of `squeue -h -r -o "%F|%K|%A|%T|%N|%r"`; jobs that are not arrays (%K "N/A") are left out. */
export const parseSqueue = (text: string): Array<TaskState> =>
  text.split("\n").flatMap((line) => {
    const [arrayJobId, task, jobId, state, node, reason] = line.trim().split("|")
    if (!arrayJobId || !task || !state || !/^\d+$/.test(task)) return []
    return [
      {
        arrayJobId,
        taskId: Number(task),
        jobId: state === "PENDING" ? null : orNull(jobId),
        state,
        node: orNull(node),
        reason: orNull(reason),
        exitCode: null,
        restarts: null,
        earlier: [],
        source: "squeue" as const
      }
    ]
  })

/** The fields tunegrid asks `sacct -X -n -P -D -o` for. */
export const sacctFields = "JobID,JobIDRaw,State,ExitCode,NodeList"

/** Lines of `sacct -X -n -P -D -o JobID,JobIDRaw,State,ExitCode,NodeList`; with --duplicates a
 * requeued task has one line per execution, oldest first, which become `earlier`. */
export const parseSacct = (text: string): Array<TaskState> => {
  const byKey = new Map<string, Array<TaskState>>()
  for (const line of text.split("\n")) {
    const [id, raw, stateText, exitCode, node] = line.trim().split("|")
    const m = id ? /^(\d+)_(\[?[\d,\-:%]+\]?)$/.exec(id) : null
    if (!m || !stateText) continue
    const state = stateText.split(" ")[0]! // "CANCELLED by 0"
    const ids = m[2]!.startsWith("[") ? parseIndexList(m[2]!) : [Number(m[2])]
    for (const taskId of ids) {
      const entry: TaskState = {
        arrayJobId: m[1]!,
        taskId,
        jobId: ids.length > 1 ? null : orNull(raw),
        state,
        node: orNull(node),
        reason: null,
        exitCode: orNull(exitCode),
        restarts: null,
        earlier: [],
        source: "sacct"
      }
      const key = taskKey(m[1]!, taskId)
      byKey.set(key, [...(byKey.get(key) ?? []), entry])
    }
  }
  return [...byKey.values()].map((runs) => ({ ...runs.at(-1)!, restarts: runs.length - 1, earlier: runs.slice(0, -1).map((r) => r.state) }))
}

const field = (record: string, name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(record)?.[1]

/** Records of `scontrol show job -o <array job id>` (one line each; the pending rest of an
 * array is one record whose ArrayTaskId is a list). */
export const parseScontrolJobs = (text: string): Array<TaskState> =>
  text.split("\n").flatMap((record) => {
    const arrayJobId = field(record, "ArrayJobId")
    const tasks = field(record, "ArrayTaskId")
    const state = field(record, "JobState")
    if (!arrayJobId || !tasks || !state) return []
    const ids = parseIndexList(tasks)
    const restarts = field(record, "Restarts")
    return ids.map((taskId) => ({
      arrayJobId,
      taskId,
      jobId: ids.length > 1 ? null : orNull(field(record, "JobId")),
      state,
      node: orNull(field(record, "NodeList")),
      reason: orNull(field(record, "Reason")),
      exitCode: orNull(field(record, "ExitCode")),
      restarts: restarts === undefined ? null : Number(restarts),
      earlier: [],
      source: "scontrol" as const
    }))
  })
