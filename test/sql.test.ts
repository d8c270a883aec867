// The sql command's pure parts: splitting prompt input into statements, and error messages.
import { describe, expect, it } from "vitest"
import { friendlySqlError, takeStatements } from "../src/commands/sql.ts"

describe("takeStatements", () => {
  it("ends statements at ; outside quotes and keeps the unfinished rest", () => {
    expect(takeStatements("SELECT 'a;b';\nSELECT 2; SELECT\n 3")).toEqual({ statements: ["SELECT 'a;b'", "SELECT 2"], rest: " SELECT\n 3" })
  })
  it("a lone ; is no statement", () => {
    expect(takeStatements(" ;\n")).toEqual({ statements: [], rest: "\n" })
  })
})

describe("friendlySqlError", () => {
  const items = [{ name: "runs", kind: "table" }, { name: "table1", kind: "view" }, { name: "pareto(budget_mib)", kind: "macro" }]
  it("lists the ledger's tables, views and macros when a name is unknown", () => {
    const text = friendlySqlError("Catalog Error: Table with name tabel1 does not exist!\n  in: SELECT * FROM tabel1", items)
    expect(text).toBe("Catalog Error: Table with name tabel1 does not exist!\n\nthe ledger has\ntables: runs\nviews: table1\nmacros: pareto(budget_mib)")
  })
  it("explains that writes are refused", () => {
    expect(friendlySqlError(`Invalid Input Error: Cannot execute statement of type "DELETE" on database "x" which is attached in read-only mode!`, items))
      .toMatch(/^the sql command is read-only/)
  })
})
