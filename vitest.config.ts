// Tests live under test/ only (run folders, device copies and helpers' worktrees elsewhere in the
// checkout may hold copies of them).
//
// Two test files at a time on a 2-core machine (npm test runs the trainer's pytest suite beside
// them, scripts/test-suites.sh): most of an end-to-end test is a child process (the CLI, a trainer
// importing torch) while the test's own worker waits. The files that start such processes go
// first, so a long one does not start last and run alone; vitest's own order (longest first, from
// its cache of earlier runs; largest first without one) holds within each group. The CLIs the
// tests start share Node's compile cache, as `bin/tunegrid.js` turns on for users (~0.3 s a start).
import { readFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

const startsProcesses = (file: string) => /src\/cli\.ts|faults\/harness\.ts|tunegrid_trainer|from "execa"/.test(readFileSync(file, "utf8"))

class ProcessesFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>) {
    const sorted = await super.sort(files)
    const heavy = new Set(sorted.filter((f) => startsProcesses(f.moduleId)))
    return [...sorted.filter((f) => heavy.has(f)), ...sorted.filter((f) => !heavy.has(f))]
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: ProcessesFirst },
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), "tunegrid-test-compile-cache") }
  }
})
