// The supported way to run the CLI is quiet: `npx tunegrid` from the repository with the system's
// own Node (20 on the team's machines) prints no EBADENGINE warnings, since package.json's engines
// name what the system needs (Node >= 20 to run npm; npm install brings Node 24 for the CLI).
import { execa, execaSync } from "execa"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"

const root = resolve(import.meta.dirname, "../..")
// PATH without node_modules/.bin: npm and npx as a user's shell finds them
const systemPath = (process.env.PATH ?? "")
  .split(":")
  .filter((p) => !p.includes("node_modules"))
  .join(":")
const npx = execaSync("sh", ["-c", "command -v npx"], { reject: false, env: { PATH: systemPath } }).stdout.trim()

describe.skipIf(npx === "")("npx tunegrid", () => {
  it("prints the version and no EBADENGINE warning with the system's Node", async () => {
    const r = await execa(npx, ["tunegrid", "--version"], {
      cwd: root,
      reject: false,
      env: { PATH: systemPath, NO_COLOR: "1" },
      extendEnv: false
    })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^tunegrid v\d+\.\d+\.\d+/)
    expect(r.stderr).not.toContain("EBADENGINE")
  }, 120_000)
})
