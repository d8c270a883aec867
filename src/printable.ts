// Text that came from a grid file or a trainer (labels, axis values, messages) made safe to show
// in a terminal or a Markdown table: stored as given, printed escaped. Pure.

// C0 and C1 control characters (newline, ESC of ANSI sequences, BEL…), DEL, and the Unicode
// bidirectional marks, embeddings, overrides and isolates that reorder what follows them.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/** `text` with every control or bidi character written as an escape (`\n`, `\x1b`, `\u202e`). */
export const printable = (text: string): string =>
  text.replace(unsafe, (c) => {
    const code = c.charCodeAt(0)
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`)
  })
