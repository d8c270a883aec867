// Where trainers run side by side in a local pool (`run --slots N`, `run --gpus 0,1|all`): CPU
// slots, or one slot per GPU, the trainer bound to its GPU through CUDA_VISIBLE_DEVICES (by UUID,
// which no device ordering can confuse) and the sampler reading the same GPU by its NVML index.
import { Effect, Runtime, Schema } from "effect"
import { execa } from "execa"

export interface Gpu {
  /** nvidia-smi's (NVML's) index. */
  readonly index: number
  readonly uuid: string
}

export interface Slot {
  /** How the watchers and the ledger name it: "cpu 1", "gpu 0". */
  readonly name: string
  readonly gpu: Gpu | null
}

export class SlotsInvalid extends Schema.TaggedError<SlotsInvalid>()("SlotsInvalid", { message: Schema.String }) {
  /** Refused before any trainer started, like an invalid grid (src/cli/exit.ts). */
  readonly [Runtime.errorExitCode] = 2
}

export const cpuSlots = (n: number): Array<Slot> => Array.from({ length: n }, (_, i) => ({ name: `cpu ${i + 1}`, gpu: null }))

/** The GPUs `--gpus` names ("all", or indices "0,1,3") among those present; a message when it names others. */
export const pickGpus = (spec: string, present: ReadonlyArray<Gpu>): Array<Gpu> | string => {
  if (spec.trim() === "all")
    return present.length > 0 ? [...present] : "--gpus all: no NVIDIA GPU found (nvidia-smi lists none); use --slots N for CPU workers"
  const parts = spec.split(",").map((s) => s.trim())
  const picked: Array<Gpu> = []
  for (const part of parts) {
    const gpu = /^\d+$/.test(part) ? present.find((g) => g.index === Number(part)) : undefined
    if (gpu === undefined) {
      return `--gpus ${JSON.stringify(spec)}: ${JSON.stringify(part)} is not a GPU here; expected "all" or indices among ${present.map((g) => g.index).join(", ") || "(none: no NVIDIA GPU found)"}`
    }
    if (picked.includes(gpu)) return `--gpus ${JSON.stringify(spec)}: GPU ${part} is named twice`
    picked.push(gpu)
  }
  return picked
}

/** The machine's NVIDIA GPUs as nvidia-smi lists them (none without nvidia-smi). */
export const listGpus = Effect.promise(() =>
  execa("nvidia-smi", ["--query-gpu=index,uuid", "--format=csv,noheader"], { reject: false, timeout: 30_000 })
).pipe(
  Effect.map(
    (r): Array<Gpu> =>
      r.failed
        ? []
        : String(r.stdout)
            .split("\n")
            .map((l) => l.split(",").map((s) => s.trim()))
            .filter(([i, u]) => /^\d+$/.test(i ?? "") && u)
            .map(([i, u]) => ({ index: Number(i), uuid: u! }))
  )
)

/** The pool `--slots` / `--gpus` ask for; undefined when neither is given (one trainer at a time, as always). */
export const resolveSlots = (o: { readonly slots: number | undefined; readonly gpus: string | undefined }) =>
  Effect.gen(function* () {
    if (o.slots !== undefined && o.gpus !== undefined) {
      return yield* new SlotsInvalid({ message: "--slots and --gpus: give one (--gpus makes one slot per GPU)" })
    }
    if (o.slots !== undefined) {
      if (!Number.isInteger(o.slots) || o.slots < 1)
        return yield* new SlotsInvalid({ message: `--slots ${o.slots}: expected a whole number of trainers, 1 or more` })
      return cpuSlots(o.slots)
    }
    if (o.gpus === undefined) return undefined
    const picked = pickGpus(o.gpus, yield* listGpus)
    if (typeof picked === "string") return yield* new SlotsInvalid({ message: picked })
    return picked.map((gpu): Slot => ({ name: `gpu ${gpu.index}`, gpu }))
  })

/** The environment and sampler argument that bind one cell's processes to a slot's GPU. */
export const binding = (slot: Slot | undefined) =>
  slot?.gpu ? { trainerEnv: { CUDA_VISIBLE_DEVICES: slot.gpu.uuid }, samplerGpu: slot.gpu.index } : {}
