// Drawing a Vega-Lite specification without a browser: vega-lite compiles it to Vega, vega lays
// it out and writes SVG (its headless "none" renderer), and resvg (prebuilt native binary, no
// Cairo or browser) rasterises the SVG to PNG at 2× with the system's fonts.
import { Resvg } from "@resvg/resvg-js"
import * as vega from "vega"
import * as vegaLite from "vega-lite"
import type { Spec } from "./figures.ts"

export const toSvg = async (spec: Spec): Promise<string> => {
  const compiled = vegaLite.compile(spec as unknown as vegaLite.TopLevelSpec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

export const toPng = (svg: string): Buffer =>
  new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    fitTo: { mode: "zoom", value: 2 },
    background: "white"
  })
    .render()
    .asPng()
