// Extra report sections beside the cells and the study's two tables, in the order the report
// shows them; it renders each in every format (terminal, --wide, md, json; csv carries only the
// per-run table). To add one, declare it with its feature (see section.ts) and list it here.
import { fitFrontier, vramBudgets } from "../fit/report.ts"
import { measuredVsPublished, publishedArithmetic } from "../references/report.ts"
import type { ReportSection } from "./section.ts"

export type { ReportSection, SectionOutput } from "./section.ts"

export const extraSections: ReadonlyArray<ReportSection> = [measuredVsPublished, publishedArithmetic, vramBudgets, fitFrontier]
