// Moved to src/cli/exit.ts (issue #19: no command imports another command). Kept only while
// src/commands/run.ts (branch house-runner) still imports it here; delete once run.ts imports
// src/cli/exit.ts.
export * from "../cli/exit.ts"
