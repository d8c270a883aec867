// The speed table of issue #7 from tunegrid ledgers: each tunegrid run beside the HF Trainer peer
// (bench/hf_peer.py, ingested into its own ledger from the same plan), with the ratio to the
// peer on the same cell and to a reference peer cell, energy per token, VRAM and MFU. Every
// figure is read from the ledgers' `results` (ledger/results.sql); nothing is computed here but
// ratios and MFU = tok/s × flops_per_token / peak.
//
//   node bench/compare.ts [--ref hf-b16-gc] [--peak-tflops 989.4] tunegrid.duckdb[:peer.duckdb] …
// Each argument is one device session: its tunegrid ledger and, if the peer ran there, its peer
// ledger. Ratios to the reference peer (--ref) are within a session only (same machine, same run).
import { DuckDBInstance } from "@duckdb/node-api"

interface Row {
  readonly label: string
  readonly tok_s: number | null
  readonly j_per_token: number | null
  readonly vram_peak_mib: number | null
  readonly torch_peak_allocated_mib: number | null
  readonly flops_per_token: number | null
  readonly status: string
}

const query = `
  SELECT coalesce(label, CAST(axis_values AS VARCHAR)) AS label, status, tok_s, j_per_token, vram_peak_mib,
         torch_peak_allocated_mib, flops_per_token
  FROM run_summary ORDER BY started_at`

const readLedger = async (file: string): Promise<Array<Row>> => {
  const db = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" })
  const connection = await db.connect()
  const reader = await connection.runAndReadAll(query)
  const rows = reader.getRowObjectsJS() as unknown as Array<Row>
  connection.closeSync()
  return rows.map((r) => ({ ...r, tok_s: r.tok_s === null ? null : Number(r.tok_s) }))
}

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? "—"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const main = async (argv: Array<string>) => {
  let ref = "hf-b16-gc"
  let peak = 989.4 // H100 SXM dense bf16, TFLOP/s (datasheet)
  const sessions: Array<{ tunegrid: string; peer: string | null }> = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--ref") ref = argv[++i]!
    else if (a === "--peak-tflops") peak = Number(argv[++i])
    else {
      const [tunegrid, peer] = a.split(":")
      sessions.push({ tunegrid: tunegrid!, peer: peer ? peer : null })
    }
  }
  if (sessions.length === 0) throw new Error("usage: node bench/compare.ts [--ref LABEL] [--peak-tflops N] tunegrid.duckdb[:peer.duckdb] …")

  const lines = [
    `| session | cell | peer tok/s (same cell) | tunegrid tok/s | × peer same cell | × peer ${ref} | J/token | VRAM peak MiB (NVML) | torch peak alloc MiB | MFU % |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  ]
  for (const [n, s] of sessions.entries()) {
    const ours = await readLedger(s.tunegrid)
    const peers = s.peer ? await readLedger(s.peer) : []
    const peerBy = new Map(peers.filter((p) => p.status === "succeeded").map((p) => [p.label, p]))
    const refTok = peerBy.get(ref)?.tok_s ?? null
    for (const r of ours) {
      if (r.status !== "succeeded") {
        lines.push(`| ${n + 1} | ${r.label} | — | ${r.status} | — | — | — | — | — | — |`)
        continue
      }
      const same = peerBy.get(r.label)?.tok_s ?? null
      const mfu = r.tok_s !== null && r.flops_per_token !== null ? (100 * r.tok_s * Number(r.flops_per_token)) / (peak * 1e12) : null
      lines.push(
        `| ${n + 1} | ${r.label} | ${fmt(same)} | ${fmt(r.tok_s)} | ${same ? fmt(r.tok_s! / same, 1) : "—"} | ${refTok ? fmt(r.tok_s! / refTok, 1) : "—"} | ${fmt(r.j_per_token, 4)} | ${fmt(r.vram_peak_mib)} | ${fmt(r.torch_peak_allocated_mib)} | ${fmt(mfu, 1)} |`
      )
    }
    for (const p of peers.filter((p) => !ours.some((r) => r.label === p.label))) {
      lines.push(
        `| ${n + 1} | ${p.label} (peer only) | ${fmt(p.tok_s)} | — | — | — | ${fmt(p.j_per_token, 4)} | ${fmt(p.vram_peak_mib)} | ${fmt(p.torch_peak_allocated_mib)} | — |`
      )
    }
  }
  console.log(lines.join("\n"))
}

await main(process.argv.slice(2))
