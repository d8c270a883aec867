// The report's "measured vs published" sections (src/report/sections.ts lists them): every
// published figure a grid carries beside tunegrid's measurement (ledger view reference_check), and
// each reference's own arithmetic (reference_arithmetic). Left out when no cell carries a reference.
import { viewSection } from "../report/section.ts"

export const measuredVsPublished = viewSection(
  "measured_vs_published",
  "reference_check",
  () =>
    "Measured vs published: each figure a grid's reference prints beside tunegrid's run (ratio = measured / published; " +
    "inside_ci: the published value lies in the measured 95% CI; closest: the reading nearest the published value; " +
    "published_in: in tunegrid's unit (MiB for memory), published_alt: a printed MB read as MiB)"
)

export const publishedArithmetic = viewSection(
  "published_arithmetic",
  "reference_arithmetic",
  () => "Published arithmetic: derived figures recomputed from the reference's own (holds: equal at the printed precision)"
)
