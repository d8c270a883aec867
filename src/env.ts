// Environment identity: which captured facts can change results (hashed into env_hash) and
// which are only recorded (host name, GPU UUID, git state).
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { hashJson } from "./hash.ts"
import type { EnvFacts } from "./protocol.ts"

/** package.json's version: the one `tunegrid --version` prints and env_hash carries, so a
 * release bump cannot leave a second copy behind. */
export const tunegridVersion: string = (() => {
  const file = new URL("../package.json", import.meta.url)
  const version: unknown = (JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version
  if (typeof version !== "string") throw new Error(`${file.pathname}: "version" must be a string, found ${JSON.stringify(version)}`)
  return version
})()

export interface Environment {
  readonly envHash: string
  readonly hashed: Readonly<Record<string, unknown>>
  readonly facts: EnvFacts & { readonly tunegrid: string; readonly git_commit: string | null; readonly git_dirty: boolean | null }
}

export const hashedFacts = (facts: EnvFacts) => ({
  gpu_name: facts.gpu_name,
  gpu_memory_mib: facts.gpu_memory_mib,
  driver: facts.driver,
  cuda: facts.cuda,
  power_limit_w: facts.power_limit_w,
  python: facts.python,
  torch: facts.torch,
  transformers: facts.transformers,
  peft: facts.peft,
  accelerate: facts.accelerate,
  bitsandbytes: facts.bitsandbytes,
  os: facts.os,
  tunegrid: tunegridVersion
})

export const gitState = (dir: string): { commit: string | null; dirty: boolean | null } => {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim()
    const status = execFileSync("git", ["status", "--porcelain"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"] }).toString()
    return { commit, dirty: status.trim().length > 0 }
  } catch {
    return { commit: null, dirty: null }
  }
}

export const makeEnvironment = (facts: EnvFacts, git: { commit: string | null; dirty: boolean | null }): Environment => {
  const hashed = hashedFacts(facts)
  return {
    envHash: hashJson(hashed),
    hashed,
    facts: { ...facts, tunegrid: tunegridVersion, git_commit: git.commit, git_dirty: git.dirty }
  }
}
