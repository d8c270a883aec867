// The LoRA/PEFT guide for 24 GB cards (seeds/002) as a grid: Llama-3-8B (base) QLoRA, LoRA r 16 /
// alpha 32 on q/k/v/o, dropout 0.05, batch 2 × accumulation 4, fp16, lr 2e-4, "a standard 7B
// model on 24GB VRAM" (an RTX 3090 or 4090). Its one claim, that this fits on a 24 GB card, is
// measured here under that card's VRAM budget (issue #17): a cell that does not fit fails `oom`.
//
// Read off the guide's code, and what it leaves open:
// - AutoModelForCausalLM.from_pretrained(load_in_4bit=True, bnb_4bit_compute_dtype=bfloat16):
//   with no quant type given, BitsAndBytesConfig's defaults apply, fp4 without double
//   quantization; "QLoRA" readers expect nf4 with double quantization (the QLoRA paper's). Double
//   quantization changes the weights' memory, so both are cells.
// - fp16=True for training while the 4-bit layers compute in bf16: as written (precision fp16,
//   compute dtype bf16).
// - prepare_model_for_kbit_training(model): gradient checkpointing on, and every non-quantized
//   weight upcast to fp32 (torchDtype "fp32"; tunegrid's own QLoRA keeps them in bf16).
// - SFTTrainer gets no max_seq_length: TRL then uses min(tokenizer.model_max_length, 1024) = 1,024
//   tokens for Llama 3 (its tokenizer sets no limit); the guide's debugging note suggests 512 or
//   1,024 to avoid OOM at start. No packing: dynamic padding.
// - TrainingArguments defaults: 3 epochs, linear schedule without warm-up, max_grad_norm 1, and
//   PyTorch's AdamW (tunegrid: adamw_torch; not paged: the guide names paged_adamw_32bit only in
//   a pitfall).
// - Model: Meta-Llama-3-8B has Llama 3.1 8B's shapes (the preset llama-3.1-8b); its data is
//   "my_dataset", unnamed: Alpaca rows here.
// - "adapter layers ... represent less than 0.1% of the total model size": r 16 on q/k/v/o is
//   13,631,488 trainable parameters of 8,043,892,736 (tunegrid's model facts), 0.17%.
//
// Offline: npx tunegrid run experiments/peft-guide-24gb.ts --set base.model=preset:llama-3.1-8b \
//   --set base.dataset=synthetic --set base.tokenizer=qwen-offline
import { defineGrid } from "tunegrid"

export default defineGrid({
  name: "peft-guide-24gb",
  description:
    "Llama-3-8B QLoRA r16/a32 on q/k/v/o, batch 2 x accumulation 4, fp16, on a 24 GB card's budget: fp4 as written and nf4 + double quant",
  base: {
    model: "hub:meta-llama/Meta-Llama-3-8B",
    tokenizer: "model",
    dataset: "hub:tatsu-lab/alpaca",
    datasetSamples: 5000,
    template: "alpaca",
    method: "qlora",
    bnb4bitComputeDtype: "bf16",
    torchDtype: "fp32",
    r: 16,
    loraAlpha: 32,
    loraDropout: 0.05,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    optim: "adamw_torch",
    precision: "fp16",
    batchSize: 2,
    gradientAccumulationSteps: 4,
    maxSeqLength: 1024,
    learningRate: 2e-4,
    lrSchedulerType: "linear",
    gradientCheckpointing: true,
    padding: "dynamic",
    vramBudget: "rtx4090",
    device: "cuda"
  },
  cells: [
    {
      label: "fp4-as-written",
      bnb4bitQuantType: "fp4",
      bnb4bitUseDoubleQuant: false,
      reference: {
        source: "guide: 'Configuration for a standard 7B model on 24GB VRAM' (RTX 3090 / 4090); no throughput or memory figures"
      }
    },
    {
      label: "nf4-double-quant",
      bnb4bitQuantType: "nf4",
      bnb4bitUseDoubleQuant: true,
      reference: {
        source: "guide: 'Configuration for a standard 7B model on 24GB VRAM' (RTX 3090 / 4090); no throughput or memory figures"
      }
    }
  ],
  seeds: [42],
  measure: { warmup: "60s", window: "120s", maxDuration: "10m" }
})
