// VRAM budgets: a smaller card's memory, by name or size, resolved to the cap PyTorch's allocator
// is held to (the card's usable memory less an allowance for the CUDA context, which lives outside
// the allocator). Pure: the table and the parsing; the trainer applies the cap (trainer/tunegrid_trainer/vram.py).
import { Schema } from "effect"

/** A card name ("rtx4060"), a size ("8GiB", "7800MiB", "8GB"), or a size with its own context
 * allowance ({ usable: "8GiB", context: "600MiB" }). */
export const VramBudgetInput = Schema.Union([Schema.String, Schema.Struct({ usable: Schema.String, context: Schema.String })])
export type VramBudgetInput = typeof VramBudgetInput.Type

/** The CUDA context PyTorch creates at its first CUDA operation with lazy module loading (CUDA ≥
 * 11.7): "around 400MB" (PyTorch maintainer, github.com/pytorch/pytorch/issues/109888). Kernels
 * loaded later (cuBLAS, attention, bitsandbytes, compiled kernels) add to it; the trainer measures
 * what the process holds outside PyTorch's allocator and the report shows it beside the budget. */
export const defaultContextMib = 400

export interface Card {
  readonly key: string
  readonly name: string
  /** nvidia-smi's memory.total for the card, MiB (public nvidia-smi outputs of each card). */
  readonly usableMib: number
  readonly contextMib: number
}

/** Consumer cards people fine-tune on. usableMib is what nvidia-smi reports as the card's total
 * (e.g. "8188MiB" for an RTX 4060): the memory a process can be given, before the display or the
 * CUDA context take their share. */
export const cards: ReadonlyArray<Card> = [
  { key: "rtx4060", name: "RTX 4060 8 GB", usableMib: 8188, contextMib: defaultContextMib },
  { key: "rtx4060ti8gb", name: "RTX 4060 Ti 8 GB", usableMib: 8188, contextMib: defaultContextMib },
  { key: "rtx4060ti16gb", name: "RTX 4060 Ti 16 GB", usableMib: 16380, contextMib: defaultContextMib },
  { key: "rtx5060ti16gb", name: "RTX 5060 Ti 16 GB", usableMib: 16311, contextMib: defaultContextMib },
  { key: "rtx3090", name: "RTX 3090 24 GB", usableMib: 24576, contextMib: defaultContextMib },
  { key: "rtx4090", name: "RTX 4090 24 GB", usableMib: 24564, contextMib: defaultContextMib }
]

/** A budget as the trainer receives it (spec `vram_budget`) and the ledger records it. */
export interface VramBudget {
  /** The card's name, or the size as given. */
  readonly name: string
  readonly usableMib: number
  /** Allowance for the CUDA context, which PyTorch's allocator does not count. */
  readonly contextMib: number
  /** usable − context: the most PyTorch's allocator may reserve. */
  readonly capMib: number
}

const units: Record<string, number> = { mib: 1, gib: 1024, mb: 1e6 / 2 ** 20, gb: 1e9 / 2 ** 20 }

/** "8GiB" | "7800MiB" | "8 GB" → MiB, or null. */
export const parseSizeMib = (text: string): number | null => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(MiB|GiB|MB|GB)\s*$/i.exec(text)
  return m ? Number(m[1]) * units[m[2]!.toLowerCase()]! : null
}

const cardKey = (text: string) =>
  text
    .toLowerCase()
    .replace(/[\s_-]+/g, "")
    .replace(/^(geforce|nvidia)+/, "")

const cardList = () => cards.map((c) => `${c.key} (${c.name}, ${c.usableMib} MiB)`).join(", ")

const sizeExpected = `a card name (${cardList()}), a size like "8GiB" or "7800MiB", or { usable: "8GiB", context: "600MiB" }`

/** Resolve a budget; a string result is what was wrong, in words (for the grid's error). */
export const resolveBudget = (input: VramBudgetInput): VramBudget | string => {
  const make = (name: string, usableMib: number, contextMib: number): VramBudget | string =>
    usableMib - contextMib > 0
      ? { name, usableMib: round(usableMib), contextMib: round(contextMib), capMib: round(usableMib - contextMib) }
      : `a budget larger than its context allowance (${round(contextMib)} MiB); got ${round(usableMib)} MiB usable`
  if (typeof input !== "string") {
    const usable = parseSizeMib(input.usable)
    const context = parseSizeMib(input.context)
    if (usable === null) return `usable: a size like "8GiB" or "7800MiB"; got ${JSON.stringify(input.usable)}`
    if (context === null) return `context: a size like "400MiB"; got ${JSON.stringify(input.context)}`
    return make(`${input.usable.trim()} (context ${input.context.trim()})`, usable, context)
  }
  const size = parseSizeMib(input)
  if (size !== null) return make(input.trim(), size, defaultContextMib)
  const key = cardKey(input)
  const card = cards.find((c) => c.key === key)
  if (card) return make(card.name, card.usableMib, card.contextMib)
  const variants = cards.filter((c) => c.key.startsWith(key) && key.length > 0)
  if (variants.length > 1) return `one of ${variants.map((c) => c.key).join(", ")} (${JSON.stringify(input)} names more than one card)`
  return sizeExpected
}

const round = (mib: number) => Math.round(mib * 10) / 10

/** The budget in the trainer's snake_case spec shape (trainer/PROTOCOL.md §1 `vram_budget`). */
export const specBudget = (input: VramBudgetInput | null) => {
  if (input === null) return null
  const b = resolveBudget(input)
  if (typeof b === "string")
    throw new Error(`vramBudget ${JSON.stringify(input)} should have been rejected when the grid was expanded: ${b}`)
  return { name: b.name, usable_mib: b.usableMib, context_mib: b.contextMib, cap_mib: b.capMib }
}
