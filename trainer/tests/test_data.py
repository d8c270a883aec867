"""Data loading, templates, truncation, padding accounting and the synthetic set."""

import json

import numpy as np
import pytest

from tunegrid_trainer import formats, readers
from tunegrid_trainer.data import Rows, data_facts, load_rows, tokenize
from tunegrid_trainer.encode import Encoder
from tunegrid_trainer.errors import DataError
from tunegrid_trainer.packing import micro_batches

ROWS = [
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "Translate to French.", "input": "good morning", "output": "bonjour"},
    {"instruction": "Write a long story. " * 30, "input": "", "output": "Once upon a time. " * 40},
]


def test_json_array_and_jsonl_files_load_the_same_rows(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n")
    assert (
        [r for _, r in readers.read_file(str(tmp_path / "a.json"))] == [r for _, r in readers.read_file(str(tmp_path / "a.jsonl"))] == ROWS
    )


def test_a_malformed_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2"):
        readers.read_file(str(path))


def test_a_row_missing_a_field_names_row_and_what_was_expected(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([ROWS[0], {"instruction": "x", "input": ""}]))
    with pytest.raises(
        DataError,
        match=r"rows\.json: row 2: expected the fields of Alpaca \(instruction, input, output\), the format of the first row \(row 1\), got fields \['input', 'instruction'\]",
    ):
        load_rows("file", str(path), None, None, None, None, None, None)


def test_an_empty_dataset_is_a_data_error(tmp_path):
    (tmp_path / "empty.json").write_text("[]")
    with pytest.raises(DataError, match="no rows"):
        load_rows("file", str(tmp_path / "empty.json"), None, None, None, None, None, None)


def alpaca(rows, tokenizer, max_seq_len=64, vocab=151936, template="alpaca"):
    return tokenize(
        Rows("test", formats.ALPACA, rows),
        tokenizer,
        template=template,
        completion_only_loss=None,
        assistant_only_loss=False,
        max_seq_len=max_seq_len,
        model_vocab=vocab,
    )


def test_templates_and_truncation_accounting(tokenizer):
    encoder = Encoder(tokenizer, formats.ALPACA, "alpaca", False, False)
    texts = [tokenizer.decode(encoder.row(r).ids) for r in ROWS]
    assert "### Input:\ngood morning" in texts[1] and "### Input:" not in texts[0]
    assert texts[0].endswith("Blue." + tokenizer.eos_token)
    chat = Encoder(tokenizer, formats.ALPACA, "chat", False, False).row(ROWS[0])
    assert "<|im_start|>assistant" in tokenizer.decode(chat.ids)
    data = alpaca(ROWS, tokenizer)
    assert data.truncated == 1 and max(len(s) for s in data.samples) == 64
    facts = data_facts("file", data)
    assert facts.samples == 3 and facts.tokens_max == 64 and facts.truncated == 1 and len(facts.token_ids_sha256) == 64
    assert facts.format == "alpaca" and facts.dropped == 0


def test_ids_beyond_the_model_vocab_are_folded_with_a_warning(tokenizer):
    data = alpaca(ROWS[:1], tokenizer, 512, vocab=1000)
    assert max(max(s) for s in data.samples) < 1000
    assert any("folded" in w for w in data.warnings)


def test_micro_batches_pad_to_the_longest_sample_and_count_real_tokens():
    samples = [[1] * 5, [2] * 3, [3] * 8, [4] * 2]
    stream = micro_batches(samples, padding="dynamic", batch_size=2, token_budget=None, seed=0, pad_id=0)
    seen = []
    for _ in range(4):  # two epochs
        b = next(stream)
        lengths = b.attention_mask.sum(1).tolist()
        assert b.input_ids.shape == (2, max(lengths))
        assert b.tokens == sum(lengths) and b.padded_tokens == 2 * max(lengths)
        assert (b.labels[b.attention_mask == 0] == -100).all()
        seen += lengths
    assert sorted(seen[:4]) == sorted(seen[4:]) == [2, 3, 5, 8]  # every sample once per epoch


def test_synthetic_set_is_deterministic_and_alpaca_like(tokenizer):
    rows = load_rows("synthetic", None, None, None, None, None, 2000, 7)
    assert rows == load_rows("synthetic", None, None, None, None, None, 2000, 7)
    assert rows != load_rows("synthetic", None, None, None, None, None, 2000, 8)
    data = alpaca(rows.rows, tokenizer, 4096)
    lengths = np.array([len(s) for s in data.samples])
    assert lengths.mean() == pytest.approx(104, rel=0.08)
    assert np.median(lengths) == pytest.approx(91, rel=0.08)
    assert np.percentile(lengths, 95) == pytest.approx(203, rel=0.10)
    again = alpaca(rows.rows, tokenizer, 4096)
    assert data_facts("synthetic", data).token_ids_sha256 == data_facts("synthetic", again).token_ids_sha256
