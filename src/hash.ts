// Canonical JSON (RFC 8785 style: sorted keys, no whitespace) and the sha256 digests that give
// cells, environments, grids, trainer sources and datasets their identity.
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Error(`canonicalJson: non-finite number ${value}`)
    }
    if (value === undefined) return "null"
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

export const hashJson = (value: unknown): string => sha256(canonicalJson(value))

/** Display form of a hash: the first 12 hex characters. */
export const short = (hash: string): string => hash.slice(0, 12)

const listFiles = (dir: string, keep: (path: string) => boolean): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "__pycache__" ? [] : listFiles(path, keep)
    return keep(path) ? [path] : []
  })

/** Digest of the trainer's Python sources: any change to how a cell is trained changes its hash. */
export const digestTree = (dir: string, keep: (path: string) => boolean = (p) => p.endsWith(".py")): string => {
  const h = createHash("sha256")
  for (const file of listFiles(dir, keep).sort()) {
    h.update(relative(dir, file)).update("\0").update(readFileSync(file)).update("\0")
  }
  return h.digest("hex")
}

export const digestFile = (path: string): string => {
  statSync(path)
  return sha256(readFileSync(path))
}
