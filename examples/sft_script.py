"""A plain TRL fine-tuning script, as its user would write it: a model, a LoRA config, a JSON/JSONL
dataset in one of TRL's formats (messages, prompt-completion or text), SFTTrainer. The one line
that lets tunegrid measure it is `callbacks=[TunegridCallback()]`; outside a tunegrid cell the
callback does nothing and the script trains as usual:

    python examples/sft_script.py --model Qwen/Qwen2.5-1.5B-Instruct --data chat.jsonl --max-steps 100

As a cell (see experiments/trainers-tiny.ts) the grid passes the cell's values as arguments:

    { trainer: "script", script: "../examples/sft_script.py",
      scriptArgs: ["--model", "../examples/tiny-qwen2", "--random-weights", "--data", "chat.jsonl",
                   "--epochs", "100", "--batch-size", "{batchSize}", "--lr", "{learningRate}", "--seed", "{seed}"] }

(`--random-weights` builds the model from its config.json alone: throughput and memory do not
depend on weight values, and examples/tiny-qwen2 ships only a config.)"""

import argparse
import tempfile

from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from tunegrid_trainer.callback import TunegridCallback

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", required=True, help="hub id or local directory")
parser.add_argument("--tokenizer", help="hub id or local directory (default: the model's)")
parser.add_argument("--random-weights", action="store_true", help="build the model from its config, untrained")
parser.add_argument("--data", required=True, help="a JSON or JSONL file")
parser.add_argument("--batch-size", type=int, default=2)
parser.add_argument("--grad-accum", type=int, default=1)
parser.add_argument("--lr", type=float, default=2e-4)
parser.add_argument("--max-length", type=int, default=512)
parser.add_argument("--epochs", type=float, default=3)
parser.add_argument("--max-steps", type=int, default=-1)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="bf16")
parser.add_argument("--output-dir", help="where to save the adapter (default: not saved)")
args = parser.parse_args()

if args.random_weights:
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(args.model))
else:
    model = AutoModelForCausalLM.from_pretrained(args.model)
tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or args.model)
dataset = load_dataset("json", data_files=args.data, split="train")

trainer = SFTTrainer(
    model=model,
    processing_class=tokenizer,
    train_dataset=dataset,
    peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, task_type="CAUSAL_LM",
                           target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
    args=SFTConfig(
        output_dir=args.output_dir or tempfile.mkdtemp(prefix="sft-"),
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.lr,
        max_length=args.max_length,
        max_steps=args.max_steps,
        num_train_epochs=args.epochs,
        seed=args.seed,
        bf16=args.precision == "bf16",
        fp16=args.precision == "fp16",
        gradient_checkpointing=False,
        save_strategy="no",
        report_to="none",
    ),
    callbacks=[TunegridCallback()],
)
trainer.train()
if args.output_dir:
    trainer.save_model(args.output_dir)
