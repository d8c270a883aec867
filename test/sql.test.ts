// The sql command's pure parts: splitting prompt input into statements, and error messages.
import { describe, expect, it } from "vitest"
import { friendlySqlError, takeStatements } from "../src/commands/sql.ts"
import { foldHistory } from "../src/cli/sqlHistory.ts"
import { showTablesQuery } from "../src/ledger/catalog.ts"

describe("takeStatements", () => {
  it("ends statements at ; outside quotes and keeps the unfinished rest", () => {
    expect(takeStatements("SELECT 'a;b';\nSELECT 2; SELECT\n 3")).toEqual({ statements: ["SELECT 'a;b'", "SELECT 2"], rest: " SELECT\n 3" })
  })
  it("a lone ; is no statement", () => {
    expect(takeStatements(" ;\n")).toEqual({ statements: [], rest: "\n" })
  })
  it("ignores quotes and ; inside -- and /* */ comments", () => {
    expect(takeStatements("SELECT 1 -- it's one; really\n, 2;\n").statements).toEqual(["SELECT 1 -- it's one; really\n, 2"])
    expect(takeStatements("/* it's; */ SELECT 3;").statements).toEqual(["/* it's; */ SELECT 3"])
  })
  it("keeps a ; inside $$ and $tag$ bodies, and a $1 parameter is no body", () => {
    expect(takeStatements("SELECT $$a;b$$; SELECT $f$ ; $$ $f$; SELECT $1;").statements).toEqual([
      "SELECT $$a;b$$",
      "SELECT $f$ ; $$ $f$",
      "SELECT $1"
    ])
  })
  it("reads doubled quotes and E'' backslash escapes as part of their string or name", () => {
    expect(takeStatements(`SELECT 'it''s;'; SELECT E'a\\';b'; SELECT "x"";y" FROM t;`).statements).toEqual([
      "SELECT 'it''s;'",
      "SELECT E'a\\';b'",
      `SELECT "x"";y" FROM t`
    ])
  })
  it("waits for more input inside an open string, comment or body, and a statement of comments only is none", () => {
    for (const open of ["SELECT 'a;", "SELECT $$ ;", "/* ;", "SELECT 1 -- ;"])
      expect(takeStatements(open)).toEqual({ statements: [], rest: open })
    expect(takeStatements("-- nothing\n;/* still nothing */;SELECT 1;")).toEqual({ statements: ["SELECT 1"], rest: "" })
  })
})

describe("friendlySqlError", () => {
  const items = [
    { name: "runs", kind: "table" },
    { name: "table1", kind: "view" },
    { name: "pareto(budget_mib)", kind: "macro" }
  ]
  it("lists the ledger's tables, views and macros when a name is unknown", () => {
    const text = friendlySqlError("Catalog Error: Table with name tabel1 does not exist!\n  in: SELECT * FROM tabel1", items)
    expect(text).toBe(
      "Catalog Error: Table with name tabel1 does not exist!\n\nthe ledger has\ntables: runs\nviews: table1\nmacros: pareto(budget_mib)"
    )
  })
  it("explains that writes are refused", () => {
    expect(
      friendlySqlError(
        `Invalid Input Error: Cannot execute statement of type "DELETE" on database "x" which is attached in read-only mode!`,
        items
      )
    ).toMatch(/^the sql command is read-only/)
  })
})

describe("the prompt's history", () => {
  it("keeps a statement typed over three lines as one entry, newest first", () => {
    // readline's history after typing "SELECT a", "FROM t", "WHERE x;" on top of an older entry
    expect(foldHistory(["WHERE x;", "FROM t", "SELECT a", "SELECT 1;"], 3, "SELECT a\nFROM t\nWHERE x;")).toEqual([
      "SELECT a FROM t WHERE x;",
      "SELECT 1;"
    ])
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
