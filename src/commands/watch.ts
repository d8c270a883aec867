// Moved to src/cli/watch.ts (issue #19: no command imports another command). Kept only while
// src/commands/run.ts (branch house-runner) still imports it here; delete once run.ts imports
// src/cli/watch.ts.
export * from "../cli/watch.ts"
