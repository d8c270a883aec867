// The doctor's checks beyond the trainer's Python: the Hugging Face hub (reachable, a token for
// gated models such as Llama, and whether it is accepted) and the plotting libraries (Vega-Lite,
// resvg and a system font to draw text with). Each says ok, warn (works, with a limit) or fail.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

export type Level = "ok" | "warn" | "fail"

export interface Check {
  readonly level: Level
  readonly label: string
  readonly detail: string
}

export const line = (c: Check) => `${c.level === "ok" ? "ok  " : c.level === "warn" ? "warn" : "FAIL"} ${c.label}: ${c.detail}`

const hfHome = () => process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface")

/** A Hugging Face token from the environment or `hf auth login`'s file, and where it came from. */
export const hubToken = (): { token: string; from: string } | null => {
  for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]) {
    const v = process.env[name]
    if (v) return { token: v.trim(), from: `$${name}` }
  }
  const file = process.env.HF_TOKEN_PATH ?? join(hfHome(), "token")
  try {
    const t = readFileSync(file, "utf8").trim()
    if (t) return { token: t, from: file }
  } catch {
    // no token file
  }
  return null
}

const get = async (url: string, token: string | null, timeoutMs: number) =>
  fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) })

/** The hub as `hub:` models and datasets will meet it. */
export const hubChecks = async (timeoutMs = 5000): Promise<Array<Check>> => {
  const token = hubToken()
  const offline = ["1", "true", "yes"].includes((process.env.HF_HUB_OFFLINE ?? "").toLowerCase())
  const out: Array<Check> = []
  if (offline) {
    out.push({ level: "warn", label: "hub", detail: "HF_HUB_OFFLINE is set: hub: models and datasets load from the local cache only" })
  } else {
    try {
      const r = await get("https://huggingface.co/api/models/Qwen/Qwen2.5-1.5B-Instruct", null, timeoutMs)
      out.push(
        r.ok
          ? { level: "ok", label: "hub", detail: "huggingface.co reachable (hub: models and datasets download on first use)" }
          : { level: "warn", label: "hub", detail: `huggingface.co answered ${r.status}: hub: models may not download` }
      )
    } catch (e) {
      out.push({
        level: "warn",
        label: "hub",
        detail: `huggingface.co not reachable (${e instanceof Error ? e.message : String(e)}): hub: models and datasets need the network or a local cache; presets and file: data work offline`
      })
    }
  }
  if (token === null) {
    out.push({
      level: "warn",
      label: "hub token",
      detail: "none ($HF_TOKEN or `hf auth login`): public models work; gated ones (meta-llama/…) are refused without one"
    })
  } else if (out[0]?.level === "ok") {
    try {
      const r = await get("https://huggingface.co/api/whoami-v2", token.token, timeoutMs)
      const who = r.ok ? (((await r.json()) as { name?: string }).name ?? "?") : null
      out.push(
        who !== null
          ? {
              level: "ok",
              label: "hub token",
              detail: `from ${token.from}, accepted (user ${who}); a gated model also needs its licence accepted on its page`
            }
          : { level: "fail", label: "hub token", detail: `from ${token.from}, refused by the hub (${r.status}): renew it (hf auth login)` }
      )
    } catch {
      out.push({ level: "warn", label: "hub token", detail: `from ${token.from} (not checked: the hub did not answer)` })
    }
  } else {
    out.push({ level: "ok", label: "hub token", detail: `from ${token.from} (not checked offline)` })
  }
  return out
}

const fontDirs = [
  "/usr/share/fonts",
  "/usr/local/share/fonts",
  join(homedir(), ".fonts"),
  join(homedir(), ".local/share/fonts"),
  "/System/Library/Fonts",
  "/Library/Fonts",
  "C:\\Windows\\Fonts"
]

const hasFont = (dir: string, depth = 0): boolean => {
  if (depth > 4 || !existsSync(dir)) return false
  try {
    return readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? hasFont(join(dir, e.name), depth + 1) : /\.(ttf|otf|ttc)$/i.test(e.name)
    )
  } catch {
    return false
  }
}

/** `tunegrid plot`'s libraries load, and there is a font for PNG text. */
export const plotChecks = async (): Promise<Array<Check>> => {
  const out: Array<Check> = []
  try {
    const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")])
    out.push({ level: "ok", label: "plotting", detail: `vega ${vega.version}, vega-lite ${vl.version}` })
  } catch (e) {
    out.push({
      level: "fail",
      label: "plotting",
      detail: `vega / vega-lite do not load (${e instanceof Error ? e.message : String(e)}): run npm install`
    })
  }
  try {
    await import("@resvg/resvg-js")
    const font = fontDirs.some((d) => hasFont(d))
    out.push(
      font
        ? { level: "ok", label: "PNG renderer", detail: "@resvg/resvg-js with system fonts" }
        : {
            level: "warn",
            label: "PNG renderer",
            detail:
              "@resvg/resvg-js loads but no system font was found: PNG text would be missing (install one, e.g. fonts-dejavu-core); SVGs are fine"
          }
    )
  } catch (e) {
    out.push({
      level: "warn",
      label: "PNG renderer",
      detail: `@resvg/resvg-js does not load (${e instanceof Error ? e.message.split("\n")[0] : String(e)}): plot writes SVG only`
    })
  }
  return out
}
