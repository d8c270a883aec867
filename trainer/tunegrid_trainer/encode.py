"""Rows of a detected format → token ids and which of them carry loss, by the same steps as TRL
1.16's `SFTTrainer._prepare_dataset`, so every backend (tunegrid, HF Trainer, TRL, which is handed
these ids and labels) trains on identical tokens and loss masks:

- language modelling: the text, with the eos token appended when it does not end with it,
  through the tokenizer (its own special tokens included); loss on every token;
- prompt-completion: eos appended to the completion likewise; prompt + completion tokenized
  together, the completion starting where that and the prompt alone diverge;
- conversational: the messages through the tokenizer's chat template; conversational
  prompt-completion: the prompt rendered with the generation prompt, the completion after it;
- Alpaca: the study's template (prompt) and the output (completion), or, with template "chat",
  a user turn and an assistant turn;
- loss masks: the completion only when completion-only loss is on (TRL's default for
  prompt-completion rows); the assistant turns only with assistant-only loss, from the chat
  template's `{% generation %}` markers (TRL's training template is swapped in when the model's
  template has none, as TRL does; a template it does not know is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import formats as f
from .errors import SpecError

ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)


@dataclass
class Encoded:
    ids: list[int]
    loss: list[bool]  # per token: whether its label counts (before the next-token shift)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def training_chat_template(tokenizer) -> Optional[str]:
    """A template whose `{% generation %}` markers give assistant masks: the tokenizer's own, or
    TRL's training version of it (None: the tokenizer's own has them)."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        raise SpecError("spec.assistant_only_loss: true needs a tokenizer with a chat template (this one has none)")
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if has_generation_markers(template):
        return None
    try:
        return get_training_chat_template(tokenizer)
    except ValueError as e:
        raise SpecError(
            "spec.assistant_only_loss: true needs a chat template with {% generation %} markers; the tokenizer's has none "
            f'and TRL has no training version of it ({e}). Use the model\'s own tokenizer (tokenizer: "model") of a model '
            "TRL knows, or set assistantOnlyLoss false"
        ) from e


class Encoder:
    """Encodes rows of one format with one tokenizer and the cell's loss options."""

    def __init__(self, tokenizer, fmt: str, template: str, completion_only: bool, assistant_only: bool):
        self.tok, self.fmt, self.template = tokenizer, fmt, template
        self.completion_only, self.assistant_only = completion_only, assistant_only
        conversational = fmt in (f.CONVERSATIONAL, f.CONVERSATIONAL_PROMPT_COMPLETION) or (fmt == f.ALPACA and template == "chat")
        if conversational and not getattr(tokenizer, "chat_template", None):
            raise SpecError("the data is conversational: it needs a tokenizer with a chat template (this one has none)")
        self.chat_template = training_chat_template(tokenizer) if assistant_only else None
        self.eos = tokenizer.eos_token or ""

    def _chat(self, messages: list[dict], **kwargs) -> dict:
        return self.tok.apply_chat_template(
            messages,
            tokenize=True,
            return_dict=True,
            chat_template=self.chat_template,
            return_assistant_tokens_mask=self.assistant_only,
            **kwargs,
        )

    def _with_eos(self, text: str) -> str:
        return text if not self.eos or text.endswith(self.eos) else text + self.eos

    def text(self, text: str) -> Encoded:
        ids = self.tok(text=self._with_eos(text))["input_ids"]
        return Encoded(ids, [True] * len(ids))

    def prompt_completion(self, prompt: str, completion: str) -> Encoded:
        prompt_ids = self.tok(text=prompt)["input_ids"]
        ids = self.tok(text=prompt + self._with_eos(completion))["input_ids"]
        start = _common_prefix(prompt_ids, ids) if self.completion_only else 0
        return Encoded(ids, [i >= start for i in range(len(ids))])

    def conversation(self, messages: list[dict]) -> Encoded:
        out = self._chat(messages)
        ids = list(out["input_ids"])
        return Encoded(ids, self._assistant(out, len(ids)))

    def chat_prompt_completion(self, prompt: list[dict], completion: list[dict]) -> Encoded:
        prompt_ids = list(self._chat(prompt, add_generation_prompt=True)["input_ids"])
        out = self._chat(prompt + completion)
        ids = list(out["input_ids"])
        start = _common_prefix(prompt_ids, ids) if self.completion_only else 0
        return Encoded(ids, [i >= start and a for i, a in enumerate(self._assistant(out, len(ids)))])

    def _assistant(self, out: dict, n: int) -> list[bool]:
        if not self.assistant_only:
            return [True] * n
        return [bool(x) for x in out["assistant_masks"]]

    def row(self, r: dict) -> Encoded:
        if self.fmt == f.LANGUAGE_MODELING:
            return self.text(r["text"])
        if self.fmt == f.PROMPT_COMPLETION:
            return self.prompt_completion(r["prompt"], r["completion"])
        if self.fmt == f.CONVERSATIONAL:
            return self.conversation(r["messages"])
        if self.fmt == f.CONVERSATIONAL_PROMPT_COMPLETION:
            return self.chat_prompt_completion(r["prompt"], r["completion"])
        if self.template == "chat":
            user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
            return self.chat_prompt_completion([{"role": "user", "content": user}], [{"role": "assistant", "content": r["output"]}])
        prompt = (ALPACA_WITH_INPUT if r["input"] else ALPACA_NO_INPUT).format(**r)
        return self.prompt_completion(prompt, r["output"])
