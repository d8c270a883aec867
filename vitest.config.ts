// Tests live under test/ only (run folders, device copies and helpers' worktrees elsewhere in the
// checkout may hold copies of them).
import { defineConfig } from "vitest/config"

export default defineConfig({ test: { include: ["test/**/*.test.ts"] } })
