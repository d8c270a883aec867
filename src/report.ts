// The report's public face for the rest of tunegrid: rendering rows in each format, and the
// report itself (src/report/*: data, terminal view, summary line, noise, sections).
export { render, type Format } from "./report/format.ts"
