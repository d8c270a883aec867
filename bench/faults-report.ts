// Formats the fault tests' results as one table — fault (the describe block) → outcome (the test,
// named for it) → pass/fail — from vitest's JSON report and pytest's JUnit XML. Used by
// bench/faults-report, which runs the tests first.
import { existsSync, readFileSync } from "node:fs"

const [vitestJson, pytestXml] = process.argv.slice(2) as [string, string]
const rows: Array<{ fault: string; outcome: string; result: string; seconds: number }> = []

if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, "utf8")) as {
    testResults: Array<{ name: string; status: string; message?: string; assertionResults: Array<{ ancestorTitles: Array<string>; title: string; status: string; duration?: number }> }>
  }
  for (const file of report.testResults) {
    if (file.assertionResults.length === 0) {
      rows.push({ fault: file.name.replace(/^.*\/test\//, "test/"), outcome: `the file did not run: ${file.message ?? file.status}`, result: "FAIL", seconds: 0 })
    }
    for (const t of file.assertionResults) {
      rows.push({ fault: t.ancestorTitles.join(" › "), outcome: t.title, result: t.status === "passed" ? "pass" : t.status === "skipped" || t.status === "pending" ? "skipped" : "FAIL", seconds: (t.duration ?? 0) / 1000 })
    }
  }
}
if (existsSync(pytestXml)) {
  const xml = readFileSync(pytestXml, "utf8")
  for (const m of xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" time="([^"]*)"\s*(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[5] ?? ""
    const result = /<failure|<error/.test(body) ? "FAIL" : /<skipped/.test(body) ? "skipped" : "pass"
    rows.push({ fault: `trainer: ${m[1]!.replace(/^.*\./, "")}`, outcome: m[2]!.replace(/^test_/, "").replaceAll("_", " "), result, seconds: Number(m[3]) })
  }
}

console.log("| fault | outcome (test) | result | s |")
console.log("| --- | --- | --- | --- |")
for (const r of rows) console.log(`| ${r.fault} | ${r.outcome.replaceAll("|", "\\|")} | ${r.result} | ${r.seconds.toFixed(1)} |`)
const failed = rows.filter((r) => r.result === "FAIL").length
console.log(`\n${rows.length} fault tests: ${rows.filter((r) => r.result === "pass").length} pass, ${failed} fail, ${rows.filter((r) => r.result === "skipped").length} skipped`)
process.exit(failed > 0 || rows.length === 0 ? 1 : 0)
