"""Fuzzing the dataset loaders (issue 13, item 5): randomly corrupted JSONL and Parquet files, nothing lost.

Every file mixes good rows (GSM8K or MATH layout) with corrupted ones: truncated JSON, wrong types, missing
fields, empty strings, rows without a final answer, invalid UTF-8 bytes, lone surrogates, huge numbers,
non-finite levels, duplicate ids (within and across files), non-object rows and rows of the other layout.
Properties, for every file:

* with ``on_error="skip"`` every good row is kept (same ids, prompts, answers, levels, categories, in file
  order) and every bad row is reported once, with its file and line (row number for Parquet), in a
  ``MalformedRowsWarning``;
* with ``on_error="raise"`` the load fails with a ``DatasetFormatError`` naming the file and line of the first
  bad row, or returns the same pool when there is none;
* nothing else is ever raised or warned.

Hypothesis runs derandomized and without an example database, so a CI run is reproducible.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autocurriculum.tasks.datasets import DatasetFormatError, MalformedRowsWarning, load_task_pool, read_tasks
from fuzzing import fuzz

# "@" and "\\" never occur in generated text: "@@" marks where invalid bytes go, "\\" would start a \boxed{}.
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="@\\#")
FINAL = st.text(alphabet="0123456789,.-/xy", min_size=1, max_size=8).filter(lambda s: s.replace(",", ""))
MATH_FINAL = st.one_of(
    st.text(alphabet="0123456789.-xy+^ ", min_size=1, max_size=8).filter(str.strip),
    st.tuples(st.integers(1, 99), st.integers(1, 99)).map(lambda ab: f"\\frac{{{ab[0]}}}{{{ab[1]}}}"),
)
ID_FIELDS = ("task_id", "id", "unique_id", "idx", "index")
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80"]
NOT_A_STRING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2)
)
NOT_AN_OBJECT = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers()))
KINDS = (
    "truncated",
    "wrong_type",
    "missing",
    "empty",
    "no_final_answer",
    "invalid_utf8",
    "lone_surrogate",
    "huge_int",
    "bad_level",
    "duplicate",
    "not_object",
    "other_layout",
)


@dataclass(frozen=True)
class Good:
    """What the loader must make of a good row."""

    task_id: str | None  # None: a content id "<stem>:<hash>"
    prompt: str
    answer: str
    level: float
    category: str


@dataclass
class FileSpec:
    path: Path
    lines: list[bytes]
    expected: list[tuple[int, Good | None]]  # (line, Good) or (line, None) for a bad row


class Builder:
    """Draws the rows of one or more files; ids and prompts of good rows are unique across all files."""

    def __init__(self, draw: Any, layout: str, id_mode: str, id_name: str | None):
        self.draw = draw
        self.layout = layout
        self.id_mode = id_mode  # "content" (no id field), "auto" (an ID_FIELDS field) or "id_field" ("qid")
        self.id_name = id_name
        self.counter = 0
        self.good_rows: list[dict[str, Any]] = []  # originals for duplicates (content ids: this file's only)

    def new_file(self) -> None:
        if self.id_mode == "content":  # a content id carries the file stem: no duplicates across files
            self.good_rows = []

    # ----- good rows -----
    def good(self) -> tuple[dict[str, Any], Good]:
        draw = self.draw
        k = self.counter
        self.counter += 1
        length = draw(st.sampled_from([5, 30, 2000]))
        prompt = draw(st.text(alphabet=TEXT, max_size=length)) + f" #{k}"  # unique, never blank
        row: dict[str, Any] = {}
        level = 0.0
        if self.layout == "gsm8k":
            final = draw(FINAL)
            reasoning = draw(st.text(alphabet=TEXT, max_size=30))
            tail = draw(st.sampled_from(["", " ", "\n"]))
            row = {"question": prompt, "answer": f"{reasoning}\n#### {final}{tail}"}
            answer, category = final.replace(",", ""), "gsm8k"
        else:
            final = draw(MATH_FINAL)
            before, after = draw(st.text(TEXT, max_size=20)), draw(st.text(TEXT, max_size=9))
            solution = f"{before} $\\boxed{{{final}}}$ {after}"
            row = {"problem": prompt}
            given = draw(st.one_of(st.none(), MATH_FINAL))  # MATH-500 rows carry the answer apart
            if given is None:
                row["solution"] = solution
                answer = final.strip()
            else:
                row["answer"] = given
                if draw(st.booleans()):
                    row["solution"] = solution
                answer = given.strip()
            number = draw(st.one_of(st.none(), st.integers(1, 5)))
            if number is not None:
                row["level"] = draw(st.sampled_from([f"Level {number}", number]))
                level = float(number)
            subject = draw(st.sampled_from([None, "Algebra", "Number Theory"]))
            if subject is not None:
                row[draw(st.sampled_from(["type", "subject"]))] = subject
            category = subject or "math"
        task_id: str | None = None
        if self.id_mode != "content":
            value: Any = draw(st.sampled_from([f"id-{k}", k, f"ü/{k}.json"]))
            row[self.id_name] = value
            task_id = str(value)
        if draw(st.booleans()):  # fields the loader ignores, with any JSON value
            row["meta"] = draw(st.one_of(NOT_A_STRING, st.text(TEXT, max_size=5)))
        self.good_rows.append(row)
        return row, Good(task_id, prompt, answer, level, category)

    # ----- bad rows -----
    def required(self) -> list[str]:
        return ["question", "answer"] if self.layout == "gsm8k" else ["problem", "solution"]

    def bad_row(self, kind: str) -> dict[str, Any] | bytes | Any:
        """A row that is malformed whatever the rest of the file holds (``bytes``: the raw line)."""
        draw = self.draw
        original = draw(st.sampled_from(self.good_rows)) if kind == "duplicate" else None
        row, _ = self.good()
        self.good_rows.pop()  # a bad row is never the original of a duplicate
        prompt_field = self.required()[0]
        if self.layout == "math":
            row.pop("answer", None)  # the solution's \boxed{} must then carry the answer
            row.setdefault("solution", "so $\\boxed{1}$")
        if kind == "truncated":
            text = json.dumps(row)
            return text[: draw(st.integers(1, len(text) - 1))].encode()
        if kind == "wrong_type":
            row[draw(st.sampled_from(self.required()))] = draw(NOT_A_STRING)
        elif kind == "missing":
            del row[draw(st.sampled_from(self.required()))]
        elif kind == "empty":
            row[draw(st.sampled_from(self.required()))] = draw(st.sampled_from(["", " ", "\n\t "]))
        elif kind == "no_final_answer":
            if self.layout == "gsm8k":
                row["answer"] = draw(st.sampled_from(["just 5", "#### ", "####  , ,", "5 ### 5"]))
            else:
                row["solution"] = draw(st.sampled_from(["no box", "\\boxed{3", "\\boxed{}", "\\fbox{ }"]))
        elif kind == "invalid_utf8":
            row[prompt_field] += "@@"
            return json.dumps(row).encode().replace(b"@@", draw(st.sampled_from(INVALID_UTF8)))
        elif kind == "lone_surrogate":
            field = draw(st.sampled_from([prompt_field, *([self.id_name] if self.id_name else [])]))
            row[field] = f"{row[field]}{draw(st.sampled_from(['@hi', '@lo']))}"
            escaped = json.dumps(row).replace("@hi", "\\ud800").replace("@lo", "\\udfff")
            return escaped.encode()
        elif kind == "huge_int":  # 5000 digits: more than Python's int parser accepts
            return json.dumps({**row, "meta": 0}).replace('"meta": 0', '"meta": ' + "9" * 5000).encode()
        elif kind == "bad_level":
            if self.layout == "gsm8k":  # no level knob: a huge number where the prompt belongs
                row[prompt_field] = 10**400
            else:
                value = draw(
                    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", str(10**400), f'"Level {"9" * 400}"'])
                )
                return json.dumps({**row, "level": 0}).replace('"level": 0', f'"level": {value}').encode()
        elif kind == "duplicate":
            assert original is not None
            if self.id_mode == "content":
                row[prompt_field] = original[prompt_field]
            else:
                row[self.id_name] = original[self.id_name]
        elif kind == "not_object":
            return draw(NOT_AN_OBJECT)
        elif kind == "other_layout":  # the other layout's fields, without a final answer either way
            if self.layout == "gsm8k":
                row = {"problem": row["question"], "solution": "no box"}
            else:
                row = {"question": row["problem"], "answer": "no marker"}
        return row


@st.composite
def files(draw: Any, max_files: int = 2) -> tuple[list[FileSpec], dict[str, Any]]:
    """One to ``max_files`` JSONL files of one layout and the loader options that go with them."""
    layout = draw(st.sampled_from(["gsm8k", "math"]))
    id_mode = draw(st.sampled_from(["content", "auto", "id_field"]))
    id_name = {"content": None, "auto": draw(st.sampled_from(ID_FIELDS)), "id_field": "qid"}[id_mode]
    builder = Builder(draw, layout, id_mode, id_name)
    options: dict[str, Any] = {"layout": draw(st.sampled_from(["auto", layout]))}
    if id_mode == "id_field":
        options["id_field"] = "qid"
    specs = []
    for n in range(draw(st.integers(1, max_files))):
        builder.new_file()
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        lines: list[bytes] = []
        expected: list[tuple[int, Good | None]] = []
        for line in range(1, draw(st.integers(0, 10)) + 1):
            choice = draw(st.sampled_from(["good", "good", "blank", *KINDS]))
            if choice == "duplicate" and len(builder.good_rows) < 1:
                choice = "good"
            if choice == "blank":  # layout, not data: neither kept nor reported
                lines.append(draw(st.sampled_from([b"", b"  ", b"\t"])))
                continue
            if choice == "good":
                row, good = builder.good()
                lines.append(json.dumps(row, ensure_ascii=draw(st.booleans())).encode())
                expected.append((line, good))
                continue
            if id_mode == "id_field" and choice == "wrong_type" and draw(st.booleans()):
                row, _ = builder.good()  # the id_field=... field missing or empty is malformed too
                builder.good_rows.pop()
                value = draw(st.sampled_from(["drop", None, ""]))
                if value == "drop":
                    del row["qid"]
                else:
                    row["qid"] = value
                bad: Any = row
            else:
                bad = builder.bad_row(choice)
            lines.append(bad if isinstance(bad, bytes) else json.dumps(bad).encode())
            expected.append((line, None))
        body = newline.encode().join(lines) + (newline.encode() if draw(st.booleans()) else b"")
        specs.append(FileSpec(Path(f"part{n}.jsonl"), [body], expected))
    return specs, options


def _write(root: Path, specs: list[FileSpec]) -> list[Path]:
    paths = []
    for spec in specs:
        spec.path = root / spec.path.name
        spec.path.write_bytes(b"".join(spec.lines))
        paths.append(spec.path)
    return paths


def _check_task(task: Any, good: Good, stem: str) -> None:
    if good.task_id is None:
        assert task.task_id.startswith(f"{stem}:"), task.task_id
    else:
        assert task.task_id == good.task_id
    assert (task.prompt, task.answer, task.level, task.category) == (
        good.prompt,
        good.answer,
        good.level,
        good.category,
    )
    for text in (task.task_id, task.prompt, task.answer, task.category, task.demonstration or ""):
        text.encode("utf-8")  # every kept text is valid Unicode (tokenizers and JSON state need it)


def check_loads(paths: list[Path], specs: list[FileSpec], options: dict[str, Any]) -> None:
    good = [(spec, line, g) for spec in specs for line, g in spec.expected if g is not None]
    bad = [(spec.path, line) for spec in specs for line, g in spec.expected if g is None]
    # skip: every good row kept, every bad row reported with file and line, nothing else
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = load_task_pool(*paths, on_error="skip", **options)
    assert len(pool) == len(good), (len(pool), len(good))
    for task, (spec, _, g) in zip(pool, good, strict=True):
        _check_task(task, g, spec.path.stem)
    assert [type(w.message) for w in caught] == ([MalformedRowsWarning] if bad else [])
    if bad:
        message = str(caught[0].message)
        assert f"skipped {len(bad)} malformed row(s)" in message, message
        for path, line in bad[:20]:
            assert f"{path}:{line}: " in message, (path, line, message)
    # per file, read_tasks reports exactly the bad lines (cross-file duplicates aside)
    for spec in specs:
        tasks, problems = read_tasks(spec.path, on_error="skip", **options)
        assert {p.file for p in problems} <= {str(spec.path)}
        assert {p.line for p in problems} <= {line for line, g in spec.expected if g is None}
        assert len(tasks) + len(problems) == len(spec.expected)
    # raise: the first bad row is named with its file and line
    if bad:
        with pytest.raises(DatasetFormatError) as info:
            load_task_pool(*paths, **options)
        path, line = bad[0]
        assert f"{path}:{line}: " in str(info.value), str(info.value)
    else:
        again = load_task_pool(*paths, **options)
        assert list(again.ids) == list(pool.ids)


def _pinned(*contents: tuple[list[bytes], list[tuple[int, Good | None]]]) -> tuple[list[FileSpec], dict[str, Any]]:
    """Files written by hand: what Hypothesis found before the fixes, kept as regression examples."""
    specs = [
        FileSpec(Path(f"part{n}.jsonl"), [b"\n".join(lines) + b"\n"], rows) for n, (lines, rows) in enumerate(contents)
    ]
    return specs, {"layout": "auto"}


GSM8K_ROW = b'{"question": " #1", "answer": "\\n#### 0"}'
GSM8K_GOOD = Good(None, " #1", "0", 0.0, "gsm8k")


@given(case=files(1))
@example(case=_pinned(([b'{"question": " #0\\ud800", "answer": "\\n#### 0"}'], [(1, None)])))  # lone surrogate
@example(case=_pinned(([b'{"question": " #0\xff", "answer": "\\n#### 0"}', GSM8K_ROW], [(1, None), (2, GSM8K_GOOD)])))
@example(case=_pinned(([b'{"question": " #0", "answer": "####  , ,"}'], [(1, None)])))  # no final answer
@example(case=_pinned(([b'{"question": " #0", "answer": "#### 0", "meta": ' + b"9" * 5000 + b"}"], [(1, None)])))
@example(case=_pinned(([b'{"problem": " #0", "solution": "no box"}', GSM8K_ROW], [(1, None), (2, GSM8K_GOOD)])))
@example(case=_pinned(([b'{"problem": " #0", "solution": " $\\\\boxed{0}$ ", "level": 1e400}'], [(1, None)])))
@fuzz(150)
def test_corrupted_jsonl_keeps_every_good_row_and_reports_every_bad_one(case: tuple[list[FileSpec], Any]) -> None:
    """150 examples (+ 6 pinned): one JSONL file of good and corrupted rows, every loader option."""
    specs, options = case
    with tempfile.TemporaryDirectory() as root:
        check_loads(_write(Path(root), specs), specs, options)


@given(case=files(3))
@example(
    case=_pinned(
        (
            [b'{"question": " #0", "answer": "#### 0", "task_id": "id-0"}'],
            [(1, Good("id-0", " #0", "0", 0.0, "gsm8k"))],
        ),
        ([b'{"question": " #2", "answer": "#### 0", "task_id": "id-0"}'], [(1, None)]),  # the id of another file
    )
)
@fuzz(150)
def test_corrupted_jsonl_files_keep_every_good_row_across_files(case: tuple[list[FileSpec], Any]) -> None:
    """150 examples (+ 1 pinned): one to three files loaded together, so duplicate ids also cross files."""
    specs, options = case
    with tempfile.TemporaryDirectory() as root:
        check_loads(_write(Path(root), specs), specs, options)


# ----------------------------------------------------------------- Parquet
@st.composite
def parquet_tables(draw: Any) -> tuple[Any, list[int | None], list[Good | None]]:
    """A GSM8K or MATH table with random nulls, bad cells, duplicate ids and sometimes a wrongly typed column."""
    import pyarrow as pa

    layout = draw(st.sampled_from(["gsm8k", "math"]))
    prompt_field, answer_field = ("question", "answer") if layout == "gsm8k" else ("problem", "solution")
    n = draw(st.integers(0, 12))
    prompts: list[str | None] = []
    answers: list[str | None] = []
    ids: list[str | None] = []
    levels: list[float | None] = []
    expected: list[Good | None] = []
    seen: set[str] = set()
    for k in range(n):
        prompt = draw(st.text(TEXT, max_size=20)) + f" #{k}"
        final = draw(FINAL) if layout == "gsm8k" else draw(MATH_FINAL)
        answer = f"so\n#### {final}" if layout == "gsm8k" else f"so $\\boxed{{{final}}}$"
        task_id = draw(st.sampled_from([f"p{k}", f"p{max(k - 1, 0)}"]))  # sometimes a duplicate of the last id
        level = draw(st.one_of(st.none(), st.integers(1, 5).map(float)))
        kind = draw(st.sampled_from(["good", "good", "null_prompt", "empty", "null_answer", "no_final", "bad_level"]))
        ok = kind == "good"
        if kind == "null_prompt":
            prompt = None
        elif kind == "empty":
            prompt = " "
        elif kind == "null_answer":
            answer = None
        elif kind == "no_final":
            answer = "no final answer"
        elif kind == "bad_level" and layout == "math":
            level = draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
        else:
            ok = True
        null_id = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
        if ok and not null_id and task_id in seen:
            ok = False  # a duplicate of a kept row
        prompts.append(prompt)
        answers.append(answer)
        ids.append(None if null_id else task_id)
        levels.append(level)
        if ok:
            if not null_id:
                seen.add(task_id)
            answer_text = final.replace(",", "") if layout == "gsm8k" else final.strip()
            category = "gsm8k" if layout == "gsm8k" else "math"
            good = Good(None if null_id else task_id, prompt or "", answer_text, 0.0, category)
            if layout == "math" and level is not None:
                good = Good(good.task_id, good.prompt, good.answer, level, category)
            expected.append(good)
        else:
            expected.append(None)
    columns = {prompt_field: pa.array(prompts, pa.string()), answer_field: pa.array(answers, pa.string())}
    columns["id"] = pa.array(ids, pa.string())
    if layout == "math":
        columns["level"] = pa.array(levels, pa.float64())
    wrong = draw(st.sampled_from([None, None, None, "int", "binary", "list"]))
    if wrong is not None and n:  # a whole column of the wrong type: every row is malformed
        column = draw(st.sampled_from([prompt_field, answer_field]))
        values = {
            "int": pa.array(list(range(n)), pa.int64()),
            "binary": pa.array([b"x" * (i + 1) for i in range(n)], pa.binary()),
            "list": pa.array([["x"]] * n, pa.list_(pa.string())),
        }[wrong]
        columns[column] = values
        expected = [None] * n
    return pa.table(columns), list(range(1, n + 1)), expected


@given(parquet_tables())
@fuzz(100)
def test_parquet_with_nulls_and_wrong_types_keeps_good_rows_and_names_bad_ones(
    case: tuple[Any, list[int], list[Good | None]],
) -> None:
    """100 examples: random GSM8K/MATH tables with nulls, bad cells, duplicate ids and wrongly typed columns."""
    import pyarrow.parquet as pq

    table, rows, expected = case
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "data.parquet"
        pq.write_table(table, path)
        check_loads([path], [FileSpec(path, [], list(zip(rows, expected, strict=True)))], {})


@given(st.integers(0, 10_000), st.booleans(), st.binary(max_size=64))
@fuzz(40)
def test_truncated_or_garbage_parquet_is_a_format_error_naming_the_file(cut: int, garbage: bool, noise: bytes) -> None:
    """40 examples: a valid Parquet file cut short, or random bytes, under a .parquet name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "broken.parquet"
        good = Path(root) / "good.parquet"
        pq.write_table(pa.table({"question": ["q"], "answer": ["#### 1"]}), good)
        data = good.read_bytes()
        path.write_bytes(noise if garbage else data[: cut % len(data)])
        for on_error in ("raise", "skip"):
            with pytest.raises(DatasetFormatError) as info:
                load_task_pool(path, on_error=on_error)
            assert str(path) in str(info.value)
