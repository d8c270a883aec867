// The shape of src/ read off its source text (issue #19): no import circle, no command importing
// another command, and SQL text only under src/ledger/ (ledger/*.sql holds the rest). Parsed with
// the TypeScript compiler, so a keyword inside a comment or an English sentence is not SQL, and a
// template literal is judged by its opening text whatever it interpolates. Each failure names the
// files (and lines) to fix.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { tunegridVersion } from "../src/env.ts"

const root = resolve(import.meta.dirname, "..")
const src = join(root, "src")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : /\.tsx?$/.test(d.name) ? [join(dir, d.name)] : []
  )

const files = sourceFiles(src).sort()
const rel = (file: string) => relative(root, file)
const parsed = new Map(files.map((f) => [f, ts.createSourceFile(f, readFileSync(f, "utf8"), ts.ScriptTarget.Latest, true)]))

/** Files under src/ that `file` imports or re-exports (type-only imports too: they are still an
 * arrow between modules, and a circle of them still reads as one). */
const importsOf = (file: string): Array<string> => {
  const out: Array<string> = []
  const visit = (node: ts.Node) => {
    const spec =
      ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
        ? node.moduleSpecifier
        : ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)
          ? node.argument.literal
          : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
            ? node.arguments[0]
            : undefined
    if (spec !== undefined && ts.isStringLiteral(spec) && spec.text.startsWith(".")) {
      const target = resolve(dirname(file), spec.text)
      if (target.startsWith(src)) out.push(target)
    }
    ts.forEachChild(node, visit)
  }
  visit(parsed.get(file)!)
  return [...new Set(out)]
}

const graph = new Map(files.map((f) => [f, importsOf(f)]))

/** Every import circle, each once, as the files around it. */
export const circles = (g: ReadonlyMap<string, ReadonlyArray<string>>): Array<Array<string>> => {
  // Tarjan's strongly connected components: a component of more than one file (or a file that
  // imports itself) is a circle.
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const found: Array<Array<string>> = []
  const strong = (v: string) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue
      if (!idx.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const component: Array<string> = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) found.push(component.sort())
    }
  }
  for (const v of g.keys()) if (!idx.has(v)) strong(v)
  return found
}

/** Statement keywords that open SQL text (uppercase, as tunegrid writes SQL; a word then a space
 * or bracket, so "With the…" or "SELECTED" in a message is not one). WHERE and FROM open the
 * fragments spliced into a query. */
const SQL_OPENING =
  /^[\s(]*(SELECT|INSERT|UPDATE|DELETE|CREATE|WITH|DROP|ALTER|COPY|DESCRIBE|PRAGMA|SET|BEGIN|COMMIT|ROLLBACK|CHECKPOINT|ATTACH|DETACH|INSTALL|LOAD|EXPLAIN|SUMMARIZE|UNION|WHERE|FROM|VALUES)(?=[\s(*]|$)/

/** String and template literals in `file` whose text opens like SQL: "path:line: text". */
export const sqlLiterals = (file: ts.SourceFile): Array<string> => {
  const found: Array<string> = []
  const visit = (node: ts.Node) => {
    const text =
      ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
        ? node.text
        : ts.isTemplateExpression(node)
          ? node.head.text
          : null
    // module specifiers and the like are string literals too, but never open with SQL
    if (text !== null && SQL_OPENING.test(text)) {
      const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1
      found.push(`${rel(file.fileName)}:${line}: ${text.trim().split("\n")[0]!.slice(0, 60)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

const under = (file: string, folder: string) => file.startsWith(join(src, folder) + "/")

describe("architecture (issue #19)", () => {
  it("finds what it looks for (the checks can fail)", () => {
    const probe = ts.createSourceFile(
      "probe.ts",
      "const a = `\n  SELECT ${x} FROM t`; const b = 'With the ledger'; const c = \"DELETE FROM t\"",
      ts.ScriptTarget.Latest,
      true
    )
    expect(sqlLiterals(probe).map((s) => s.replace(/^.*?:(\d+):/, "$1:"))).toEqual(["1: SELECT", "2: DELETE FROM t"])
    expect(
      circles(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
          ["d", ["a"]]
        ])
      )
    ).toEqual([["a", "b", "c"]])
  })

  it("has no import circle", () => {
    expect(circles(graph).map((c) => c.map(rel).join(" ↔ "))).toEqual([])
  })

  it("no command imports another command", () => {
    const offending = files
      .filter((f) => under(f, "commands"))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter((t) => under(t, "commands"))
          .map((t) => `${rel(f)} imports ${rel(t)}`)
      )
    expect(offending).toEqual([])
  })

  it("keeps SQL text under src/ledger/", () => {
    const offending = files.filter((f) => !under(f, "ledger")).flatMap((f) => sqlLiterals(parsed.get(f)!))
    expect(offending).toEqual([])
  })

  it("reads the version from package.json, and no source file repeats it", () => {
    const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version
    expect(tunegridVersion).toBe(version)
    const copies = files.flatMap((f) => {
      const found: Array<string> = []
      const visit = (node: ts.Node) => {
        if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && node.text.replace(/^v/, "") === version)
          found.push(rel(f))
        ts.forEachChild(node, visit)
      }
      visit(parsed.get(f)!)
      return found
    })
    expect(copies).toEqual([])
  })
})
