// The QLoRA playbook's chat setup (../shared/seeds 001: a 16 GB RTX 5060 Ti, Qwen 2.5 7B, r64 on
// every linear projection, alpha 128, batch 4 × accumulation 4 at 2048 tokens, paged 8-bit AdamW,
// bf16, lr 2e-4 with 100 warm-up steps, TRL SFTTrainer on HuggingFaceH4/no_robots, whose rows are
// `messages`), measured as the playbook runs it (trl) and with tunegrid's loop and levers on the
// same data. The playbook's claim to check: peak VRAM ~12-13 GB.
//
//   npx tunegrid run experiments/chat-sft.ts          # downloads the model and no_robots
// Offline, on the architecture preset and the shipped conversational fixture:
//   npx tunegrid run experiments/chat-sft.ts --set base.model=preset:qwen2.5-7b --set base.tokenizer=qwen-offline \
//     --set base.dataset=file:../trainer/tests/fixtures/data/messages.jsonl
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "chat-sft",
  description: "QLoRA playbook (5060 Ti 16 GB): Qwen2.5-7B-Instruct r64 all-linear on no_robots messages, TRL vs tunegrid",
  base: {
    model: "hub:Qwen/Qwen2.5-7B-Instruct",
    tokenizer: "model",
    dataset: "hub:HuggingFaceH4/no_robots",
    datasetSplit: "train",
    datasetSamples: 10000,
    method: "qlora",
    bnb4bitQuantType: "nf4",
    bnb4bitUseDoubleQuant: true,
    bnb4bitComputeDtype: "bf16",
    r: 64,
    loraAlpha: 128,
    loraDropout: 0.05,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    batchSize: 4,
    gradientAccumulationSteps: 4,
    maxSeqLength: 2048,
    optim: "paged_adamw_8bit",
    precision: "bf16",
    learningRate: 2e-4,
    warmupSteps: 100,
    lrSchedulerType: "constant",
    gradientCheckpointing: true,
    device: "cuda"
  },
  cells: [
    { label: "playbook-trl", trainer: "trl", lossKernel: "fused" },
    { label: "tunegrid", trainer: "tunegrid" },
    {
      label: "tunegrid-levers",
      trainer: "tunegrid",
      padding: "packed",
      lossKernel: "fused",
      compile: true,
      gradientCheckpointing: "auto",
      tokensPerStep: 16384
    }
  ],
  seeds: [42],
  measure: { warmup: { detect: { floor: "30s", cap: "300s" } }, window: "adaptive", minWindow: "60s", ciTarget: 0.02, maxDuration: "15m" }
})
