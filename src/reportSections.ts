// The report's sections beyond the study's tables, each from its own module: measured vs published
// (issue #16) and VRAM budgets with the fit frontier (issue #17). Only non-empty sections.
import { Effect } from "effect"
import { fitSections } from "./fit/report.ts"
import { publishedSections } from "./references/report.ts"

export const extraSections = Effect.map(Effect.all([publishedSections, fitSections]), ([a, b]) => [...a, ...b])
