// Formats the fault tests' results as one table — fault (the describe block) → outcome (the test,
// named for it) → pass/fail — from vitest's JSON report and pytest's JUnit XML, then the points of
// issue 15 (reliability) each with the tests that hold it. Used by bench/faults-report, which runs
// the tests first.
import { existsSync, readFileSync } from "node:fs"

const [vitestJson, pytestXml] = process.argv.slice(2) as [string, string]
const rows: Array<{ fault: string; outcome: string; result: string; seconds: number; file: string }> = []

/** Issue 15's points and the tests that hold each (matched on "file › describe › test"). */
const issue15: Array<[string, RegExp]> = [
  ["1 a data file given as --ledger is refused, not opened in memory", /a data file given as the ledger|what may be opened as a ledger/],
  ["2 export --out onto the ledger or its WAL is refused", /export onto the ledger/],
  [
    "3 kill -9 between a run's status and its results leaves no succeeded run without results",
    /between a run's status and its results|a run's end is one transaction/
  ],
  ["4 120 MB of trainer stderr: kept in its file, a bounded tail, the run succeeds", /writes 120 MB to stderr/],
  [
    "5 a bad event fails its run as protocol and the grid goes on; seeds beyond INT32 refused",
    /bad trainer events|an event the ledger refuses|write failures|seed beyond the ledger|beyond a ledger column/
  ],
  ["6 children die with a killed runner; the next runner stops leftovers", /children of a runner killed with SIGKILL|dies with it/],
  ["7 SIGHUP is SIGTERM; a closed stdout does not stop the grid", /SIGHUP/],
  ["8 ended_at in UTC whatever TZ; INTERVALs printed as DuckDB writes them", /time and intervals|prints INTERVALs/],
  ["9 non-finite numbers refused by name", /infinite learning rate|overflow to Infinity/],
  ["10 labels with control characters escaped for display, stored as given", /labels with control characters|printable/],
  ["11 an idle sql prompt named as the holder; statements split right", /interactive sql prompt|takeStatements/],
  ["12 a grid's cells appended in one transaction, not one INSERT each (bench/grid-start.ts times it)", /cells written in bulk/]
]

if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, "utf8")) as {
    testResults: Array<{
      name: string
      status: string
      message?: string
      assertionResults: Array<{ ancestorTitles: Array<string>; title: string; status: string; duration?: number }>
    }>
  }
  for (const file of report.testResults) {
    if (file.assertionResults.length === 0) {
      rows.push({
        fault: file.name.replace(/^.*\/test\//, "test/"),
        outcome: `the file did not run: ${file.message ?? file.status}`,
        result: "FAIL",
        seconds: 0,
        file: file.name
      })
    }
    for (const t of file.assertionResults) {
      rows.push({
        fault: t.ancestorTitles.join(" › "),
        outcome: t.title,
        result: t.status === "passed" ? "pass" : t.status === "skipped" || t.status === "pending" ? "skipped" : "FAIL",
        seconds: (t.duration ?? 0) / 1000,
        file: file.name.replace(/^.*\/test\//, "test/")
      })
    }
  }
}
if (existsSync(pytestXml)) {
  const xml = readFileSync(pytestXml, "utf8")
  for (const m of xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" time="([^"]*)"\s*(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[5] ?? ""
    const result = /<failure|<error/.test(body) ? "FAIL" : /<skipped/.test(body) ? "skipped" : "pass"
    rows.push({
      fault: `trainer: ${m[1]!.replace(/^.*\./, "")}`,
      outcome: m[2]!.replace(/^test_/, "").replaceAll("_", " "),
      result,
      seconds: Number(m[3]),
      file: m[1]!
    })
  }
}

console.log("| fault | outcome (test) | result | s |")
console.log("| --- | --- | --- | --- |")
for (const r of rows) console.log(`| ${r.fault} | ${r.outcome.replaceAll("|", "\\|")} | ${r.result} | ${r.seconds.toFixed(1)} |`)
console.log("\n| issue 15 point | tests | pass | fail |")
console.log("| --- | --- | --- | --- |")
let uncovered = 0
for (const [point, pattern] of issue15) {
  const held = rows.filter((r) => pattern.test(`${r.file} › ${r.fault} › ${r.outcome}`))
  if (held.length === 0) uncovered += 1
  console.log(
    `| ${point} | ${held.length} | ${held.filter((r) => r.result === "pass").length} | ${held.filter((r) => r.result === "FAIL").length} |`
  )
}
const failed = rows.filter((r) => r.result === "FAIL").length + uncovered
console.log(
  `\n${rows.length} fault tests: ${rows.filter((r) => r.result === "pass").length} pass, ${failed} fail, ${rows.filter((r) => r.result === "skipped").length} skipped`
)
process.exit(failed > 0 || rows.length === 0 ? 1 : 0)
