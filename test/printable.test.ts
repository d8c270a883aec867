// Labels and other user text shown in a terminal or a Markdown table: every control and
// bidirectional character escaped, everything else (accents, CJK, emoji) as it is.
import { describe, expect, it } from "vitest"
import { printable } from "../src/printable.ts"

describe("printable", () => {
  it("escapes newlines, ANSI escape sequences, bells and bidi overrides", () => {
    expect(printable("a\nb\r\tc")).toBe("a\\nb\\r\\tc")
    expect(printable("\u001b[31mred\u001b[0m\u0007")).toBe("\\x1b[31mred\\x1b[0m\\x07")
    expect(printable("\u202eevil\u202c \u2066iso\u2069 \u200f\u061c \u0085\u009b")).toBe(
      "\\u202eevil\\u202c \\u2066iso\\u2069 \\u200f\\u061c \\x85\\x9b"
    )
  })
  it("leaves ordinary text, accents, CJK and emoji alone", () => {
    const text = 'lr=3e-4 · Größe 学习率 🚀 | "quoted"'
    expect(printable(text)).toBe(text)
  })
})
