"""TRL's dataset formats from the shipped fixtures (tests/fixtures/data): each file's format is
detected from its rows, its samples carry the tokens the tokenizer gives for that format (worked
out here independently), and exactly the tokens TRL would train on carry loss. Bad rows of each
kind are refused naming the file, the row and the field."""

from pathlib import Path

import pytest

from tunegrid_trainer import dataset_check
from tunegrid_trainer.data import load_rows, tokenize
from tunegrid_trainer.encode import ALPACA_NO_INPUT, ALPACA_WITH_INPUT
from tunegrid_trainer.errors import DataError, SpecError

DATA = Path(__file__).parent / "fixtures" / "data"


def rows_of(name: str, columns=None):
    return load_rows("file", str(DATA / name), None, None, None, columns, None, None)


def encode(rows, tokenizer, completion_only_loss=None, assistant_only_loss=False, template="alpaca", max_seq_len=512):
    return tokenize(
        rows,
        tokenizer,
        template=template,
        completion_only_loss=completion_only_loss,
        assistant_only_loss=assistant_only_loss,
        max_seq_len=max_seq_len,
        model_vocab=151_936,
    )


def loss_ids(data, i):
    """The token ids of sample i whose label counts."""
    mask = data.loss_masks[i] if data.loss_masks is not None else [True] * len(data.samples[i])
    return [t for t, keep in zip(data.samples[i], mask) if keep]


def ids(tokenizer, text):
    return tokenizer(text=text)["input_ids"]


@pytest.mark.parametrize("name", ["alpaca.json", "alpaca.csv"])
def test_alpaca_rows_are_one_text_with_loss_everywhere_unless_completion_only(tokenizer, name):
    rows = rows_of(name)
    assert rows.format == "alpaca" and len(rows.rows) == 4
    data = encode(rows, tokenizer)
    eos = tokenizer.eos_token
    for i, r in enumerate(rows.rows):
        prompt = (ALPACA_WITH_INPUT if r["input"] else ALPACA_NO_INPUT).format(**r)
        assert data.samples[i] == ids(tokenizer, prompt + r["output"] + eos)
        assert loss_ids(data, i) == data.samples[i]
    completion_only = encode(rows, tokenizer, completion_only_loss=True)
    assert [tokenizer.decode(loss_ids(completion_only, i)) for i in range(4)] == [r["output"] + eos for r in rows.rows]


def test_alpaca_json_and_csv_give_the_same_samples(tokenizer):
    assert encode(rows_of("alpaca.json"), tokenizer).samples == encode(rows_of("alpaca.csv"), tokenizer).samples


@pytest.mark.parametrize("name", ["text.jsonl", "text.parquet"])
def test_language_modelling_rows_end_with_eos_and_carry_loss_everywhere(tokenizer, name):
    rows = rows_of(name)
    assert rows.format == "language_modeling" and len(rows.rows) == 5
    data = encode(rows, tokenizer)
    assert data.samples == [ids(tokenizer, r["text"] + tokenizer.eos_token) for r in rows.rows]
    assert data.loss_masks is None
    facts_tokens = sum(len(s) for s in data.samples)
    assert facts_tokens == sum(len(ids(tokenizer, r["text"])) + 1 for r in rows.rows)


@pytest.mark.parametrize("name", ["prompt_completion.jsonl", "prompt_completion.csv"])
def test_prompt_completion_rows_carry_loss_on_the_completion_by_default(tokenizer, name):
    rows = rows_of(name)
    assert rows.format == "prompt_completion" and len(rows.rows) == 4
    data = encode(rows, tokenizer)
    eos = tokenizer.eos_token
    for i, r in enumerate(rows.rows):
        assert data.samples[i] == ids(tokenizer, r["prompt"] + r["completion"] + eos)
        assert data.samples[i][: len(ids(tokenizer, r["prompt"]))] == ids(tokenizer, r["prompt"])
        assert tokenizer.decode(loss_ids(data, i)) == r["completion"] + eos
    everywhere = encode(rows, tokenizer, completion_only_loss=False)
    assert everywhere.loss_masks is None and everywhere.samples == data.samples


def test_a_column_mapping_reads_other_field_names(tokenizer):
    rows = rows_of("columns.jsonl", columns={"prompt": "question", "completion": "answer"})
    assert rows.format == "prompt_completion" and [r["completion"] for r in rows.rows] == [" 7", " tac", " A"]
    data = encode(rows, tokenizer)
    assert tokenizer.decode(loss_ids(data, 0)) == " 7" + tokenizer.eos_token
    with pytest.raises(DataError, match=r'columns\.jsonl: line 1: expected one of the fields "messages".*after the column mapping'):
        rows_of("columns.jsonl", columns={"prompt": "query"})


@pytest.mark.parametrize("name", ["messages.jsonl", "messages.parquet"])
def test_conversations_go_through_the_chat_template(tokenizer, name):
    rows = rows_of(name)
    assert rows.format == "conversational" and len(rows.rows) == 4
    data = encode(rows, tokenizer)
    for i, r in enumerate(rows.rows):
        expected = tokenizer.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"]
        assert data.samples[i] == list(expected)
        assert "<|im_start|>assistant" in tokenizer.decode(data.samples[i])
    assert data.loss_masks is None  # TRL's default: loss on the whole conversation


def test_assistant_only_loss_trains_on_the_assistant_turns_through_trls_training_template(tokenizer):
    import trl

    qwen = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer, eos_token=tokenizer.eos_token, pad_token=tokenizer.pad_token)
    qwen.chat_template = (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text()  # no generation markers
    rows = rows_of("messages.jsonl")
    data = encode(rows, qwen, assistant_only_loss=True)
    for i, r in enumerate(rows.rows):
        answers = [m["content"] for m in r["messages"] if m["role"] == "assistant"]
        assert qwen.decode(loss_ids(data, i)) == "".join(f"\n{a}<|im_end|>\n" for a in answers)
        users = [m["content"] for m in r["messages"] if m["role"] == "user"]
        assert not any(u in qwen.decode(loss_ids(data, i)) for u in users)


def test_assistant_only_loss_with_a_template_trl_cannot_mark_is_refused(tokenizer):
    with pytest.raises(SpecError, match=r"assistant_only_loss.*generation"):
        encode(rows_of("messages.jsonl"), tokenizer, assistant_only_loss=True)


def test_conversational_prompt_completion_carries_loss_after_the_rendered_prompt(tokenizer):
    rows = rows_of("chat_prompt_completion.json")
    assert rows.format == "conversational_prompt_completion" and len(rows.rows) == 3
    data = encode(rows, tokenizer)
    for i, r in enumerate(rows.rows):
        prompt = list(tokenizer.apply_chat_template(r["prompt"], tokenize=True, return_dict=True, add_generation_prompt=True)["input_ids"])
        full = list(tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=True, return_dict=True)["input_ids"])
        assert data.samples[i] == full and full[: len(prompt)] == prompt
        assert loss_ids(data, i) == full[len(prompt) :]
        assert r["completion"][0]["content"] in tokenizer.decode(loss_ids(data, i))


def test_loss_fields_that_do_not_fit_the_format_are_refused(tokenizer):
    with pytest.raises(SpecError, match="assistant_only_loss true needs conversational rows"):
        encode(rows_of("text.jsonl"), tokenizer, assistant_only_loss=True)
    with pytest.raises(SpecError, match="completion_only_loss true needs prompt-completion or Alpaca rows"):
        encode(rows_of("messages.jsonl"), tokenizer, completion_only_loss=True)


def test_samples_without_a_loss_token_after_truncation_are_dropped_and_counted(tokenizer):
    data = encode(rows_of("prompt_completion.jsonl"), tokenizer, max_seq_len=6)
    # "Complete the proverb: a stitch in time" alone is 8 tokens: its completion is cut off
    assert data.dropped >= 1 and len(data.samples) == 4 - data.dropped
    assert all(any(m[1:]) for m in data.loss_masks)
    assert any("dropped" in w for w in data.warnings)


BAD = [
    (
        "mixed.jsonl",
        r"mixed\.jsonl: line 3: expected language modelling \(text\) like the first row \(line 1\): a dataset holds one "
        r"format, got a prompt-completion \(prompt, completion\) row",
    ),
    (
        "no_format.json",
        r"no_format\.json: row 2: expected the fields of Alpaca \(instruction, input, output\), the format of the "
        r"first row \(row 1\), got fields \['question', 'reply'\]",
    ),
    (
        "first_row.json",
        r'first_row\.json: row 1: expected one of the fields "messages" \(conversational\), "prompt" \+ "completion" '
        r".*got fields \['body', 'title'\]",
    ),
    (
        "role.jsonl",
        r'role\.jsonl: line 2: field "messages\[1\]\.role": expected one of "system", "user", "assistant", "tool", got str "bot"',
    ),
    (
        "empty_messages.jsonl",
        r'empty_messages\.jsonl: line 2: field "messages": expected a non-empty list of \{role, content\} messages, '
        r"got an empty list",
    ),
    ("completion_type.jsonl", r'completion_type\.jsonl: line 3: field "completion": expected a string, got int 42'),
    ("output_type.json", r'output_type\.json: row 2: field "output": expected a string, got int 2'),
    (
        "messages.csv",
        r'messages\.csv: row 1 \(line 2\): field "messages": expected a non-empty list of \{role, content\} messages '
        r"\(CSV cells are text: keep conversations in JSON, JSONL or Parquet\), got str",
    ),
    ("prompt_only.csv", r'prompt_only\.csv: row 1 \(line 2\): expected one of the fields "messages".*got fields \[\'prompt\'\]'),
    ("content.parquet", r'content\.parquet: row 2: field "messages\[1\]\.content": expected a string, got null'),
]


@pytest.mark.parametrize("name, message", BAD, ids=[b[0] for b in BAD])
def test_bad_rows_are_refused_with_file_row_field_and_expectation(name, message):
    with pytest.raises(DataError, match=message):
        rows_of(f"bad/{name}")


@pytest.mark.parametrize("name, message", BAD[:3], ids=[b[0] for b in BAD[:3]])
def test_the_runners_preflight_reports_the_same_refusal(name, message):
    import re

    reply = dataset_check.check({"key": "k", "source": "file", "path": str(DATA / "bad" / name), "columns": None})
    assert reply["ok"] is False and reply["kind"] == "data_error" and re.search(message, reply["message"])
    good = dataset_check.check({"key": "g", "source": "file", "path": str(DATA / "messages.parquet"), "columns": None})
    assert good == {"key": "g", "ok": True, "format": "conversational", "rows": 4}
