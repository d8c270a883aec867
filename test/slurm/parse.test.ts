// Reading Slurm's command output: the cluster limits, array index lists, and task states from
// squeue, sacct (with requeued executions) and `scontrol show job` (with the pending rest of an array).
import { describe, expect, it } from "vitest"
import {
  formatIndexList,
  parseConfig,
  parseIndexList,
  parseSacct,
  parseScontrolJobs,
  parseSqueue,
  parseSubmitted
} from "../../src/slurm/parse.ts"

describe("Slurm output", () => {
  it("reads MaxArraySize, max_array_tasks, accounting and MinJobAge from scontrol show config", () => {
    const text = [
      "Configuration data as of 2026-12-02T07:24:18",
      "AccountingStorageType   = accounting_storage/slurmdbd",
      "MaxArraySize            = 4001",
      "MinJobAge               = 300 sec",
      "SchedulerParameters     = bf_continue,max_array_tasks=1000,sched_interval=2"
    ].join("\n")
    expect(parseConfig(text)).toEqual({
      maxArraySize: 4001,
      maxArrayTasks: 1000,
      accounting: "accounting_storage/slurmdbd",
      minJobAgeS: 300
    })
    expect(parseConfig("MaxArraySize = 1001\nSchedulerParameters = (null)")).toMatchObject({
      maxArraySize: 1001,
      maxArrayTasks: null,
      accounting: "accounting_storage/none"
    })
  })

  it("takes the job id from sbatch --parsable, with or without a cluster name", () => {
    expect(parseSubmitted("1234\n")).toBe("1234")
    expect(parseSubmitted("1234;gpu-cluster\n")).toBe("1234")
    expect(parseSubmitted("sbatch: error: Batch job submission failed")).toBeNull()
  })

  it("expands and compresses array index lists", () => {
    expect(parseIndexList("0-3,7,9-15:2%4")).toEqual([0, 1, 2, 3, 7, 9, 11, 13, 15])
    expect(parseIndexList("[5-7%2]")).toEqual([5, 6, 7])
    expect(formatIndexList([9, 0, 1, 2, 3, 7, 10, 3])).toBe("0-3,7,9-10")
    expect(parseIndexList(formatIndexList([4, 8, 15, 16, 23, 42]))).toEqual([4, 8, 15, 16, 23, 42])
  })

  it("reads one line per array task from squeue -r, leaving out jobs that are not arrays", () => {
    const text = "7|1|7|PENDING||JobArrayTaskLimit\n7|0|8|RUNNING|vm|None\n12|N/A|12|RUNNING|vm|None\n"
    expect(parseSqueue(text)).toEqual([
      {
        arrayJobId: "7",
        taskId: 1,
        jobId: null,
        state: "PENDING",
        node: null,
        reason: "JobArrayTaskLimit",
        exitCode: null,
        restarts: null,
        earlier: [],
        source: "squeue"
      },
      {
        arrayJobId: "7",
        taskId: 0,
        jobId: "8",
        state: "RUNNING",
        node: "vm",
        reason: null,
        exitCode: null,
        restarts: null,
        earlier: [],
        source: "squeue"
      }
    ])
  })

  it("reads sacct lines: the state's first word, a pending range per task, and requeued executions oldest first", () => {
    const text = [
      "123_0|124|COMPLETED|0:0|gpu01",
      "123_1|125|NODE_FAIL|0:0|gpu02",
      "123_1|125|CANCELLED by 0|0:15|gpu03",
      "123_[2-3%2]|123|PENDING|0:0|None assigned"
    ].join("\n")
    const states = parseSacct(text)
    expect(states.map((s) => [s.taskId, s.state, s.restarts, s.earlier, s.jobId, s.node])).toEqual([
      [0, "COMPLETED", 0, [], "124", "gpu01"],
      [1, "CANCELLED", 1, ["NODE_FAIL"], "125", "gpu03"],
      [2, "PENDING", 0, [], null, null],
      [3, "PENDING", 0, [], null, null]
    ])
  })

  it("reads scontrol show job -o records, the pending rest of an array as one record", () => {
    const text = [
      "JobId=7 ArrayJobId=7 ArrayTaskId=1-5%1 ArrayTaskThrottle=1 JobName=t JobState=PENDING Reason=JobArrayTaskLimit Restarts=0 ExitCode=0:0 NodeList=(null)",
      "JobId=8 ArrayJobId=7 ArrayTaskId=0 JobName=t JobState=CANCELLED Reason=None Restarts=2 ExitCode=143:0 RunTime=00:00:02 NodeList=vm BatchHost=vm"
    ].join("\n")
    const states = parseScontrolJobs(text)
    expect(states.map((s) => s.taskId)).toEqual([1, 2, 3, 4, 5, 0])
    expect(states.at(-1)).toEqual({
      arrayJobId: "7",
      taskId: 0,
      jobId: "8",
      state: "CANCELLED",
      node: "vm",
      reason: null,
      exitCode: "143:0",
      restarts: 2,
      earlier: [],
      source: "scontrol"
    })
    expect(states[0]).toMatchObject({ jobId: null, state: "PENDING", node: null, reason: "JobArrayTaskLimit" })
  })
})
