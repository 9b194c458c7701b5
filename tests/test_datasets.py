"""Loading GSM8K / MATH layouts from JSONL, Parquet and saved `datasets` folders; malformed rows reported."""

from __future__ import annotations

import json

import pytest

from autocurriculum.tasks.datasets import (
    DatasetFormatError,
    MalformedRowsWarning,
    extract_boxed,
    gsm8k_final_answer,
    load_task_pool,
    read_tasks,
)

GSM8K = [
    {"question": "Tom has 3 apples and buys 4. How many?", "answer": "3 + 4 = 7\n#### 7"},
    {"question": "A shop sells 1,200 pens a day. Pens in 2 days?", "answer": "1,200*2=2,400\n#### 2,400"},
]
MATH = [
    {
        "problem": "Compute 1/2 + 1/4.",
        "solution": "We get $\\boxed{\\frac{3}{4}}$.",
        "level": "Level 2",
        "type": "Prealgebra",
        "unique_id": "test/prealgebra/1.json",
    },
    {
        "problem": "Solve x^2 = 4 for x > 0.",
        "solution": "So $x = \\boxed{2}$.",
        "level": "Level 1",
        "type": "Algebra",
        "unique_id": "test/algebra/7.json",
    },
]


def _jsonl(path, rows, extra_lines=()):
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_answer_extraction():
    assert gsm8k_final_answer("so 1,234 total\n#### 1,234") == "1234"
    assert gsm8k_final_answer("no marker") is None
    assert extract_boxed("a \\boxed{1} then \\boxed{\\frac{a}{b}}") == "\\frac{a}{b}"
    assert extract_boxed("\\boxed{unbalanced") is None


def test_gsm8k_jsonl_with_stable_content_ids(tmp_path):
    path = _jsonl(tmp_path / "gsm8k.jsonl", GSM8K)
    pool = load_task_pool(path)
    assert [t.answer for t in pool] == ["7", "2400"]
    assert all(t.task_id.startswith("gsm8k:") and t.category == "gsm8k" for t in pool)
    # ids depend on the content, not the row position
    reordered = load_task_pool(_jsonl(tmp_path / "gsm8k.jsonl", GSM8K[::-1]))
    assert sorted(reordered.ids) == sorted(pool.ids)


def test_math_parquet_and_saved_dataset(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "math.parquet"
    pq.write_table(pa.Table.from_pylist(MATH), path)
    pool = load_task_pool(path)
    assert list(pool.ids) == ["test/prealgebra/1.json", "test/algebra/7.json"]
    assert [t.answer for t in pool] == ["\\frac{3}{4}", "2"]
    assert [t.level for t in pool] == [2.0, 1.0]
    assert pool.category_names == ["Algebra", "Prealgebra"]

    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "saved"
    datasets.Dataset.from_list(GSM8K).save_to_disk(str(folder))
    assert [t.answer for t in load_task_pool(folder)] == ["7", "2400"]


def test_malformed_rows_rejected_with_file_and_line(tmp_path):
    bad = [*GSM8K, {"question": "No marker", "answer": "just 5"}]
    path = _jsonl(tmp_path / "bad.jsonl", bad, extra_lines=["{not json"])
    with pytest.raises(DatasetFormatError, match=r"bad\.jsonl:3: .*####"):
        load_task_pool(path)


def test_malformed_rows_skipped_only_when_asked_and_always_reported(tmp_path):
    rows = [*GSM8K, {"question": "No marker", "answer": "just 5"}, {"question": 3, "answer": "#### 3"}, GSM8K[0]]
    path = _jsonl(tmp_path / "bad.jsonl", rows, extra_lines=["{not json"])
    tasks, problems = read_tasks(path, on_error="skip")
    assert len(tasks) == 2
    assert [(p.line, p.reason.split()[0]) for p in problems] == [
        (3, "field"),
        (4, "field"),
        (5, "duplicate"),
        (6, "invalid"),
    ]
    with pytest.warns(MalformedRowsWarning, match=r"bad\.jsonl:6: invalid JSON"):
        pool = load_task_pool(path, on_error="skip")
    assert len(pool) == 2


def test_explicit_id_field_and_layout(tmp_path):
    rows = [{**r, "qid": f"q{i}"} for i, r in enumerate(GSM8K)]
    pool = load_task_pool(_jsonl(tmp_path / "g.jsonl", rows), id_field="qid", layout="gsm8k")
    assert list(pool.ids) == ["q0", "q1"]
    with pytest.raises(DatasetFormatError, match=r"g2\.jsonl:1: .*'problem'"):
        load_task_pool(_jsonl(tmp_path / "g2.jsonl", GSM8K), layout="math")
    with pytest.raises(DatasetFormatError, match="unsupported"):
        load_task_pool(_jsonl(tmp_path / "g.csv", GSM8K))
