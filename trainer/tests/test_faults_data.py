"""Bad data gives a clear `data_error` naming the file (and line or row), never a silent
zero-token step; over-length samples are truncated and counted."""

import json

import pytest

from conftest import run_trainer
from tunegrid_trainer import formats
from tunegrid_trainer.data import Rows, load_rows, tokenize
from tunegrid_trainer.errors import DataError
from tunegrid_trainer.packing import micro_batches
from tunegrid_trainer.readers import read_file


def read_file_rows(path):
    return load_rows("file", path, None, None, None, None, None, None)


ROW = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def test_a_missing_data_file_names_the_path_and_the_reason(tmp_path):
    with pytest.raises(DataError, match=r"cannot read data file .*nope\.jsonl: .*No such file"):
        read_file(str(tmp_path / "nope.jsonl"))


def test_a_json_object_instead_of_rows_says_what_was_expected(tmp_path):
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"data": [ROW]}, indent=2))
    with pytest.raises(DataError, match=r"wrapped\.json: expected a JSON array of rows or JSONL .*got a JSON object with keys \['data'\]"):
        read_file_rows(str(path))


def test_a_field_of_the_wrong_type_names_the_line_and_field(tmp_path):
    path = tmp_path / "typed.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + json.dumps({**ROW, "output": 42}) + "\n")
    with pytest.raises(DataError, match=r'typed\.jsonl: line 2: field "output": expected a string, got int 42'):
        read_file_rows(str(path))


def test_a_jsonl_line_that_is_not_an_object_names_the_line(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text(json.dumps(ROW) + "\n\n" + json.dumps(["a", "b"]) + "\n")
    with pytest.raises(
        DataError,
        match=r"list\.jsonl: line 3: expected an object with the fields of Alpaca \(instruction, input, output\), got a list of 2",
    ):
        read_file_rows(str(path))


@pytest.mark.parametrize("text", ["", "   \n\n", "[]"])
def test_an_empty_file_is_a_data_error_naming_it(tmp_path, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text)
    with pytest.raises(DataError, match=r"empty\.jsonl has no rows"):
        read_file_rows(str(path))


def test_over_length_samples_are_truncated_and_counted_and_no_step_has_zero_tokens(tokenizer):
    rows = [ROW, {**ROW, "output": "word " * 400}, {"instruction": "", "input": "", "output": ""}]
    data = tokenize(
        Rows("test", formats.ALPACA, rows),
        tokenizer,
        template="alpaca",
        completion_only_loss=None,
        assistant_only_loss=False,
        max_seq_len=32,
        model_vocab=151_936,
    )
    assert data.truncated == 1
    assert max(len(s) for s in data.samples) == 32
    stream = micro_batches(data.samples, padding="dynamic", batch_size=2, token_budget=None, seed=0, pad_id=data.pad_id)
    for _ in range(6):  # two epochs: every micro-batch carries real tokens
        b = next(stream)
        assert 0 < b.tokens <= b.padded_tokens


def test_the_real_trainer_reports_a_missing_data_file_as_data_error_before_training(spec, tmp_path):
    missing = tmp_path / "dir with spaces" / "it's missing.jsonl"
    spec["data"] = {"source": "file", "path": str(missing), "samples": None, "columns": None}
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 2, err
    assert [e["event"] for e in events] == ["failed"]
    assert events[0]["kind"] == "data_error" and str(missing) in events[0]["message"]
