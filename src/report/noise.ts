// When a figure is noise: the sanity bound on a tok/s 95% CI (the same number as views.sql's
// ci_sanity_bound(), which results.sql uses to mark runs not steady), and the ratio of two
// figures with the uncertainty of each carried into it. Pure.

/** A tok/s CI half-width above ±25% of tok/s makes a result unreliable, whatever the CI target:
 * two such intervals overlap for any ratio below 1.25 / 0.75 ≈ 1.67×. */
export const CI_SANITY_BOUND = 0.25

export const unreliable = (ciRel: number | null | undefined): boolean =>
  ciRel === null || ciRel === undefined || !(ciRel <= CI_SANITY_BOUND)

export interface Ratio {
  readonly ratio: number
  /** 95% half-width of the ratio, from the relative half-widths of both figures (first order:
   * r·√(ra² + rb²)); null when either figure has no interval. */
  readonly half: number | null
}

/** a / b, each with its relative 95% CI half-width (fraction) when known. */
export const ratioOf = (a: number, aRel: number | null, b: number, bRel: number | null): Ratio => {
  const ratio = a / b
  return { ratio, half: aRel === null || bRel === null ? null : ratio * Math.sqrt(aRel ** 2 + bRel ** 2) }
}
