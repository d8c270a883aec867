// `tunegrid doctor` through the real CLI: no GPU is a warning (a GPU tool says so), and it checks
// what a first GPU grid needs beyond torch: `datasets` for hub data, the hub and a token for
// gated models, and the plotting libraries.
import { describe, expect, it } from "vitest"
import { cli, noPython } from "../faults/harness.ts"

describe.skipIf(noPython)("tunegrid doctor", () => {
  it("warns (not ok) without a GPU, and checks datasets, the hub token and the plotting libraries", async () => {
    const r = await cli(["doctor", "--ledger", "/tmp/tunegrid-doctor-test.duckdb"], {
      HF_TOKEN: "hf_not_a_real_token",
      HF_HUB_OFFLINE: "1"
    })
    const out = String(r.stdout)
    expect(out).toMatch(/^(ok {2}|warn) gpu: /m)
    if (/^warn gpu/m.test(out)) expect(out).toContain("none visible to torch: cells run on the CPU")
    expect(out).not.toMatch(/^ok {3}gpu: none/m)
    expect(out).toMatch(/^(ok {2}|warn) datasets: /m)
    expect(out).toMatch(/^warn hub: HF_HUB_OFFLINE is set/m)
    expect(out).toMatch(/^ok {3}hub token: from \$HF_TOKEN/m)
    expect(out).toMatch(/^ok {3}plotting: vega \d+\.\d+\.\d+, vega-lite \d+\.\d+\.\d+/m)
    expect(out).toMatch(/^(ok {2}|warn) PNG renderer: /m)
    expect(out).toMatch(/^(ready|\d+ failed)/m)
    expect(r.exitCode).toBe(/^FAIL/m.test(out) ? 1 : 0)
  }, 180_000)
})
