// What grid files import: `import { defineGrid } from "tunegrid"`. Plain data in, plain data out,
// so grids load the same through any TypeScript loader.
import type { GridDef } from "./grid/schema.ts"

export type { CellConfig, GridDef, PartialCell } from "./grid/schema.ts"

/** Identity function that gives a grid literal its type (and editor completion). */
export const defineGrid = <const G extends GridDef>(grid: G): G => grid
