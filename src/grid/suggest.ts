// "Did you mean": the closest known name to a misspelt one — the same name in another case or
// in snake_case (learningrate, learning_rate → learningRate), a common short name (lr, bs), or
// one within a small edit distance (qwen-1.5b → qwen2.5-1.5b). Pure.

/** Short names people carry over from other tools, to the grid's field names. */
const aliases: Record<string, string> = {
  lr: "learningRate",
  bs: "batchSize",
  batch: "batchSize",
  alpha: "loraAlpha",
  dropout: "loraDropout",
  rank: "r",
  seqlen: "maxSeqLength",
  seqlength: "maxSeqLength",
  maxlength: "maxSeqLength",
  maxlen: "maxSeqLength",
  seq: "maxSeqLength",
  gradaccum: "gradientAccumulationSteps",
  accumulation: "gradientAccumulationSteps",
  optimizer: "optim",
  dtype: "precision",
  targets: "targetModules",
  modules: "targetModules",
  quanttype: "bnb4bitQuantType",
  checkpointing: "gradientCheckpointing"
}

const squash = (s: string) => s.toLowerCase().replace(/[_\-\s.]/g, "")

export const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** The candidate `word` most likely stands for, or null when none is close. */
export const closest = (word: string, candidates: ReadonlyArray<string>): string | null => {
  const w = squash(word)
  const same = candidates.find((c) => squash(c) === w)
  if (same) return same
  const alias = aliases[w]
  if (alias && candidates.includes(alias)) return alias
  let best: { name: string; d: number } | null = null
  for (const c of candidates) {
    const d = editDistance(w, squash(c))
    if (best === null || d < best.d) best = { name: c, d }
  }
  return best !== null && best.d <= Math.max(1, Math.floor(Math.min(w.length, squash(best.name).length) / 3)) ? best.name : null
}

/** " (did you mean x?)" or "". */
export const didYouMean = (word: string, candidates: ReadonlyArray<string>): string => {
  const c = closest(word, candidates)
  return c === null || c === word ? "" : ` (did you mean ${c}?)`
}
