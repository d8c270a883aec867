// Finding the Python interpreter that has the trainer's dependencies: the --python flag, then
// TUNEGRID_PYTHON, then the trainer's own environment (trainer/.venv, made by trainer/setup.sh).
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { Schema } from "effect"
import { trainerDir } from "../cells.ts"

export class PythonNotFound extends Schema.TaggedError<PythonNotFound>()("PythonNotFound", {
  message: Schema.String
}) {}

export const findPython = (flag: string | null): PythonNotFound | { python: string; from: string } => {
  // A relative path means relative to where the user is, not to trainer/ (the children's cwd).
  const here = (p: string) => (p.includes("/") ? resolve(p) : p)
  if (flag)
    return existsSync(flag) || !flag.includes("/")
      ? { python: here(flag), from: "--python" }
      : new PythonNotFound({ message: `--python ${flag}: no such file` })
  const env = process.env.TUNEGRID_PYTHON
  if (env)
    return existsSync(env) || !env.includes("/")
      ? { python: here(env), from: "TUNEGRID_PYTHON" }
      : new PythonNotFound({ message: `TUNEGRID_PYTHON=${env}: no such file` })
  const venv = resolve(trainerDir, ".venv/bin/python")
  if (existsSync(venv)) return { python: venv, from: "trainer/.venv" }
  return new PythonNotFound({
    message:
      "no Python environment for the trainer: run `npm run setup:python` (creates trainer/.venv with torch, transformers, peft), or pass --python / set TUNEGRID_PYTHON to an interpreter that has them"
  })
}

/** Environment for trainer subprocesses: the trainer package importable, output unbuffered. */
export const pythonEnv = (): Record<string, string> => ({
  PYTHONPATH: [trainerDir, process.env.PYTHONPATH].filter(Boolean).join(":"),
  PYTHONUNBUFFERED: "1",
  TOKENIZERS_PARALLELISM: "false"
})
