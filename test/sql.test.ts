// The sql command's pure parts: splitting prompt input into statements, and error messages.
import { describe, expect, it } from "vitest"
import { friendlySqlError, takeStatements } from "../src/commands/sql.ts"
import { foldHistory, showTablesQuery } from "../src/commands/sqlPrompt.ts"

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

describe("the prompt's history", () => {
  it("keeps a statement typed over three lines as one entry, newest first", () => {
    // readline's history after typing "SELECT a", "FROM t", "WHERE x;" on top of an older entry
    expect(foldHistory(["WHERE x;", "FROM t", "SELECT a", "SELECT 1;"], 3, "SELECT a\nFROM t\nWHERE x;")).toEqual(["SELECT a FROM t WHERE x;", "SELECT 1;"])
  })
  it("a one-line statement stays as it was", () => {
    expect(foldHistory(["SELECT 2;", "SELECT 1;"], 1, "SELECT 2;")).toEqual(["SELECT 2;", "SELECT 1;"])
  })
})

describe("SHOW TABLES", () => {
  it("becomes a listing of distinct names; other statements pass through", () => {
    expect(showTablesQuery("show tables;")).toMatch(/SELECT DISTINCT table_name/)
    expect(showTablesQuery("SHOW ALL TABLES")).not.toBeNull()
    expect(showTablesQuery("SELECT 1")).toBeNull()
  })
})
