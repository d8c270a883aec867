// How long a large grid takes before its first cell starts, fresh and on resume: a 10,000-cell CPU
// grid (100 learning rates × 10 ranks × 10 alphas), timed phase by phase in this process (load and
// expand, hash, record environment + grid + cells into a real DuckDB file) and end to end through
// the real CLI (process start to the "[1/10000] run" line, then SIGTERM). Prints one table.
// Usage: node bench/grid-start.ts [cells-per-axis=10] (10 → 10,000 cells); about 2 min here.
import { execa } from "execa"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { repoRoot } from "../src/cells.ts"
import { makeEnvironment } from "../src/env.ts"
import { loadGrid } from "../src/grid/load.ts"
import { Ledger } from "../src/ledger/Ledger.ts"
import type { EnvFacts } from "../src/protocol.ts"
import { prepareGrid, recordGrid } from "../src/recorder.ts"

const root = resolve(import.meta.dirname, "..")
const n = Number(process.argv[2] ?? 10)
const dir = mkdtempSync(join(tmpdir(), "tunegrid-grid-start-"))
const grid = join(dir, "big.ts")
const range = (k: number, f: (i: number) => number) => JSON.stringify(Array.from({ length: k }, (_, i) => f(i)))
writeFileSync(
  grid,
  `export default {
  name: "big",
  base: { model: "preset:tiny", device: "cpu", precision: "fp32", maxSeqLength: 64, datasetSamples: 32, gradientCheckpointing: false },
  axes: { learningRate: ${range(n * 10, (i) => Number((1e-5 * (i + 1)).toPrecision(6)))}, r: ${range(n, (i) => 4 + i)}, loraAlpha: ${range(n, (i) => 8 + i)} },
  seeds: [1],
  measure: { warmup: "1 steps", window: "2 steps", maxDuration: "60s" }
}
`
)
const facts: EnvFacts = {
  python: "3.11",
  torch: "2",
  transformers: "5",
  peft: "0.1",
  accelerate: "1",
  bitsandbytes: null,
  cuda: null,
  cudnn: null,
  device: "cpu",
  gpu_name: null,
  gpu_memory_mib: null,
  gpu_uuid: null,
  driver: null,
  power_limit_w: null,
  os: "Linux",
  cpu: "x86",
  hostname: "bench"
}
const timed = async <A>(f: () => Promise<A>): Promise<[A, number]> => {
  const t = performance.now()
  const a = await f()
  return [a, (performance.now() - t) / 1000]
}

const rows: Array<[string, string, string]> = []
const [loaded, tLoad] = await timed(() => Effect.runPromise(loadGrid(grid)))
const [prepared, tHash] = await timed(async () => prepareGrid(loaded))
const cells = prepared.cells.length
rows.push([`load + decode + expand (${cells} cells)`, tLoad.toFixed(2), "(same)"])
rows.push(["hash cells", tHash.toFixed(2), "(same)"])
const env = makeEnvironment(facts, { commit: null, dirty: null })
const ledger = join(dir, "inproc.duckdb")
const record = () => Effect.runPromise(Effect.scoped(recordGrid(env, prepared).pipe(Effect.provide(Ledger.layer(ledger)))))
const [, tFresh] = await timed(record)
const [, tResume] = await timed(record)
rows.push(["record environment + grid + cells", tFresh.toFixed(2), tResume.toFixed(2)])

/** Seconds from spawning `tunegrid run` to its first "[1/N] run" line (then SIGTERM, waited for). */
const toFirstCell = async (cliLedger: string) => {
  const t = performance.now()
  const sub = execa(process.execPath, [join(root, "src/cli.ts"), "run", grid, "--no-tui", "--sampler", "none", "--ledger", cliLedger], {
    cwd: root,
    reject: false,
    env: { NO_COLOR: "1" }
  })
  let out = ""
  const seen = new Promise<number>((done) => {
    sub.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (/\[1\/\d+\] run /.test(out)) done((performance.now() - t) / 1000)
    })
    void sub.then(() => done(Number.NaN))
  })
  const s = await seen
  sub.kill("SIGTERM")
  const r = await sub
  if (Number.isNaN(s)) throw new Error(`the runner ended before its first cell:\n${String(r.stderr).slice(-2000)}`)
  return s
}
const cliLedger = join(dir, "cli.duckdb")
const cliFresh = await toFirstCell(cliLedger)
const cliResume = await toFirstCell(cliLedger)
rows.push(["`tunegrid run` start to first cell (CLI, incl. Python probe)", cliFresh.toFixed(2), cliResume.toFixed(2)])

console.log(`| phase (${cells}-cell grid, seconds) | fresh ledger | resume |`)
console.log("| --- | --- | --- |")
for (const r of rows) console.log(`| ${r.join(" | ")} |`)
console.log(`\n(${repoRoot}; temp dir ${dir})`)
