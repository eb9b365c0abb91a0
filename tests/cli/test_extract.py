"""`chiso extract`: every report format, an exact table, and a whole set in one process."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from chiso.cli import app
from chiso.extract_cmd import COLUMNS, exact, row
from chiso_ingest.formats import read
from chiso_ingest.formats.base import Limits
from chiso_shared.facts import Fact
from tests.ingest.builders import make_docx, make_pdf, unicode_font
from tests.support import SHARED

runner = CliRunner()
REPORT = (
    "Báo cáo tình hình phát triển bưu chính, viễn thông tỉnh Quảng Bình năm 2023.\n"
    "Tổng số thuê bao điện thoại trên toàn tỉnh đạt 3.258.819 thuê bao, tăng 4,44% so với "
    "cùng kỳ. Doanh thu viễn thông đạt 4.670 tỷ đồng.\n"
)
UNDATED = "Tổng số thuê bao Internet đạt 250.000 thuê bao.\n"


def facts_of(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def by_text(facts: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(fact for fact in facts if fact["text"] == text)


def table_rows(tmp_path: Path, text: str) -> dict[str, dict[str, str]]:
    """The table `chiso extract` prints for `text`, its rows keyed by the number as written."""
    report = tmp_path / "quang-binh.txt"
    report.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["extract", str(report)])
    assert result.exit_code == 0, result.output
    return {row["text"]: row for row in table_of(result)}


def table_of(result: Result) -> list[dict[str, str]]:
    """The human-readable output as rows keyed by the English column names."""
    header, *lines = result.stdout.splitlines()
    assert header.split("\t") == [f"{vi} ({en})" for vi, en in COLUMNS]
    return [dict(zip([en for _, en in COLUMNS], line.split("\t"), strict=True)) for line in lines]


def test_extract_prints_guideline_jsonl(tmp_path: Path) -> None:
    report = tmp_path / "ha-tinh-2023.txt"
    report.write_text(
        "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Hà Tĩnh đạt 1.450.000 thuê bao, "
        "tăng 2,5% so với cùng kỳ.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["extract", str(report), "--jsonl"])
    assert result.exit_code == 0, result.output
    facts = facts_of(result)
    level = by_text(facts, "1.450.000")
    assert list(level)[:4] == ["doc", "start", "end", "text"]
    assert level["doc"] == "ha-tinh-2023.txt"
    assert (level["value"], level["unit"], level["period"]) == (1450000, "count", "2023")
    assert level["scope"] == "VN-42"


def test_extract_hints_apply(tmp_path: Path) -> None:
    report = tmp_path / "no-dates.txt"
    report.write_text(UNDATED, encoding="utf-8")
    result = runner.invoke(
        app, ["extract", str(report), "--jsonl", "--published", "2021-06", "--scope", "VN-01"]
    )
    assert result.exit_code == 0, result.output
    fact = facts_of(result)[0]
    assert str(fact["period"]).startswith("2021")
    assert fact["scope"] == "VN-01"


def assert_report_facts(facts: list[dict[str, Any]], doc: str) -> None:
    subscribers = by_text(facts, "3.258.819")
    assert (subscribers["doc"], subscribers["value"], subscribers["unit"]) == (
        doc,
        3258819,
        "count",
    )
    assert (subscribers["period"], subscribers["scope"]) == ("2023", "VN-44")
    assert by_text(facts, "4,44")["value"] == 4.44
    assert by_text(facts, "4.670")["value"] == 4670000000000


def test_extract_reads_a_docx(tmp_path: Path) -> None:
    report = tmp_path / "quang-binh.docx"
    report.write_bytes(make_docx(REPORT.splitlines()))
    result = runner.invoke(app, ["extract", str(report), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert_report_facts(facts_of(result), "quang-binh.docx")


def test_extract_reads_a_pdf(tmp_path: Path) -> None:
    if unicode_font() is None:
        pytest.skip("no DejaVu font to write Vietnamese into a PDF")
    report = tmp_path / "quang-binh.pdf"
    report.write_bytes(make_pdf([REPORT]))
    result = runner.invoke(app, ["extract", str(report), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert_report_facts(facts_of(result), "quang-binh.pdf")


def test_extract_reads_html_as_ingest_does(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{line}</p>" for line in REPORT.splitlines())
    html = (
        "<html><head><title>Sở TT&TT</title><script>var visits = 987654;</script></head>"
        f"<body><nav>Trang chủ | Tin tức 2024</nav><article>{paragraphs}</article></body></html>"
    ).encode()
    report = tmp_path / "quang-binh.html"
    report.write_bytes(html)
    result = runner.invoke(app, ["extract", str(report), "--jsonl"])
    assert result.exit_code == 0, result.output
    facts = facts_of(result)
    assert_report_facts(facts, "quang-binh.html")
    # Offsets refer to the text the ingest reader makes of the page, not to the markup.
    text = read(html, "text/html", Limits(), ["text/html"]).text
    assert all(text[int(f["start"]) : int(f["end"])] == f["text"] for f in facts)
    assert not any("987654" in str(f["text"]) or "<" in str(f["label"]) for f in facts)


def test_an_unreadable_file_is_reported_and_the_others_still_extracted(tmp_path: Path) -> None:
    broken = tmp_path / "hong.docx"
    broken.write_bytes(make_docx(["Doanh thu đạt 100 tỷ đồng."])[:300])  # a cut-off zip
    good = tmp_path / "tot.txt"
    good.write_text(REPORT, encoding="utf-8")
    result = runner.invoke(app, ["extract", str(broken), str(good), "--jsonl"])
    assert result.exit_code == 1
    assert "không đọc được" in result.stderr and "hong.docx" in result.stderr
    assert "DOCX" in result.stderr
    assert {fact["doc"] for fact in facts_of(result)} == {"tot.txt"}


def test_a_binary_file_without_a_known_extension_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "dump.bin"
    binary.write_bytes(bytes(range(32)) * 8)
    result = runner.invoke(app, ["extract", str(binary)])
    assert result.exit_code == 1
    assert "tệp nhị phân" in result.stderr


def test_the_table_has_a_header_and_exact_values(tmp_path: Path) -> None:
    rows = table_rows(tmp_path, REPORT)
    assert rows["3.258.819"]["value"] == "3258819"
    assert rows["4.670"]["value"] == "4670000000000"
    assert (rows["4.670"]["unit"], rows["4.670"]["basis"]) == ("VND", "-")
    change = rows["4,44"]
    assert (change["value"], change["role"], change["basis"]) == (
        "4.44",
        "change",
        "previous_period",
    )
    assert change["span"] == f"{REPORT.index('4,44')}-{REPORT.index('4,44') + 4}"
    assert rows["3.258.819"]["label"] == "Tổng số thuê bao điện thoại trên toàn tỉnh"


@pytest.mark.parametrize(
    ("value", "printed"),
    [(3258819.0, "3258819"), (4.67e12, "4670000000000"), (4.44, "4.44"), (1e20, "1" + "0" * 20)],
)
def test_values_print_exactly(value: float, printed: str) -> None:
    assert exact(value) == printed
    assert float(printed) == value


PAIR_AND_RANGE = Fact(
    doc="a.txt",
    start=0,
    end=1,
    text="x",
    value=0.5,
    unit="percent",
    of=4.67e12,
    max=4.44,
    period="2023",
)
MIXED = (
    "Năm 2023, tỉnh Quảng Bình có 558/559 xã có cáp quang đến trung tâm xã. "
    "Tốc độ tăng trưởng dự kiến đạt 3-4%. Toàn tỉnh có 1.250 trạm BTS.\n"
)


def test_the_table_has_every_jsonl_field() -> None:
    fields = list(PAIR_AND_RANGE.to_jsonl_dict())
    start = fields.index("start")
    assert fields[start : start + 2] == ["start", "end"]
    fields[start : start + 2] = ["span"]  # one `start-end` cell
    assert [en for _, en in COLUMNS] == fields
    assert all(re.search("[à-ỹđ]", vi) for vi, _ in COLUMNS)  # each header is Vietnamese first


def test_the_table_shows_pairs_ranges_and_counted_items(tmp_path: Path) -> None:
    rows = table_rows(tmp_path, MIXED)
    pair, span, count = rows["558/559"], rows["3-4"], rows["1.250"]
    assert (pair["value"], pair["of"], pair["max"]) == ("558", "559", "-")
    assert pair["item"] == "xã có cáp quang"
    assert (span["value"], span["of"], span["max"], span["unit"]) == ("3", "-", "4", "percent")
    assert (count["value"], count["item"], count["of"], count["max"]) == (
        "1250",
        "trạm BTS",
        "-",
        "-",
    )


def test_the_table_prints_of_and_max_exactly() -> None:
    cells = zip(
        [en for _, en in COLUMNS], row(PAIR_AND_RANGE).rstrip("\n").split("\t"), strict=True
    )
    printed = dict(cells)
    assert (printed["value"], printed["of"], printed["max"], printed["item"]) == (
        "0.5",
        "4670000000000",
        "4.44",
        "-",
    )


def write_hints(folder: Path, rows: list[str]) -> Path:
    table = folder / "hints.tsv"
    table.write_text("file\tpublished\tscope\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return table


def test_hints_give_each_document_its_own_published_date(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "docs" / name).write_text(UNDATED, encoding="utf-8")
    table = write_hints(tmp_path, ["docs/b.txt\t2022-03\t", "docs/a.txt\t2021-06\tVN-01"])
    result = runner.invoke(app, ["extract", "--hints", str(table), "--jsonl", "--scope", "VN-38"])
    assert result.exit_code == 0, result.output
    facts = facts_of(result)
    assert [(f["doc"], str(f["period"])[:4], f["scope"]) for f in facts] == [
        ("b.txt", "2022", "VN-38"),  # an empty cell takes the command-line option
        ("a.txt", "2021", "VN-01"),
    ]


def test_hints_naming_a_missing_file_stop_before_any_output(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(UNDATED, encoding="utf-8")
    table = write_hints(tmp_path, ["a.txt\t2021", "khong-co.txt\t2022"])
    result = runner.invoke(app, ["extract", "--hints", str(table), "--jsonl"])
    assert result.exit_code == 2
    assert "khong-co.txt" in result.stderr and "dòng 3" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "extra"),
    [("path\tpublished\na.txt\t2021\n", []), ("file\tpublished\na.txt\t2021\n", ["a.txt"])],
)
def test_bad_hints_commands_are_refused(tmp_path: Path, content: str, extra: list[str]) -> None:
    (tmp_path / "a.txt").write_text(UNDATED, encoding="utf-8")
    (tmp_path / "hints.tsv").write_text(content, encoding="utf-8")
    args = ["extract", "--hints", str(tmp_path / "hints.tsv"), *(str(tmp_path / e) for e in extra)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == "" and "chiso extract:" in result.stderr


def test_hints_for_dev2_equal_one_run_per_document() -> None:
    table = SHARED / "eval" / "dev2" / "hints.tsv"
    if not table.is_file():
        pytest.skip("../shared/eval/dev2 is not present")
    together = runner.invoke(app, ["extract", "--hints", str(table), "--jsonl"])
    assert together.exit_code == 0, together.output
    one_by_one = []
    for line in table.read_text(encoding="utf-8").splitlines()[1:]:
        name, published = line.split("\t")[:2]
        alone = runner.invoke(
            app, ["extract", str(table.parent / name), "--published", published, "--jsonl"]
        )
        one_by_one.append(alone.stdout)
    assert together.stdout == "".join(one_by_one)
    assert together.stdout


def test_a_folder_gives_its_report_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b.docx").write_bytes(make_docx(REPORT.splitlines()))
    (tmp_path / "notes.csv").write_text(REPORT, encoding="utf-8")  # not a report format
    result = runner.invoke(app, ["extract", str(tmp_path), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert sorted({fact["doc"] for fact in facts_of(result)}) == ["a.txt", "b.docx"]


def test_a_missing_path_is_refused_in_vietnamese_before_any_output(tmp_path: Path) -> None:
    good = tmp_path / "tot.txt"
    good.write_text(REPORT, encoding="utf-8")
    missing = tmp_path / "khong-co.docx"
    result = runner.invoke(app, ["extract", str(good), str(missing)])
    assert result.exit_code == 2
    assert result.stdout == ""
    vietnamese, english = result.stderr.split(" / ")
    assert "không có tệp" in vietnamese and str(missing) in vietnamese
    assert "no such file" in english and str(missing) in english


def test_every_help_text_of_extract_is_vietnamese_first() -> None:
    command = get_command(app).commands["extract"]  # type: ignore[attr-defined]
    ctx = command.make_context("extract", [], resilient_parsing=True)
    texts = [command.help, *(param.help for param in command.get_params(ctx))]
    for text in texts:
        vietnamese, _, english = text.partition(" / ")
        assert re.search("[à-ỹđ]", vietnamese) and english, text
    result = runner.invoke(app, ["extract", "--help"])
    assert result.exit_code == 0
    assert "Cách dùng" in result.stdout and "Tùy chọn" in result.stdout
    assert "Tham số" in result.stdout


@pytest.mark.parametrize(
    ("args", "vietnamese"),
    [(["--bogus"], "không có tùy chọn --bogus"), (["--hints"], "tùy chọn --hints dùng sai")],
)
def test_command_line_mistakes_are_reported_in_vietnamese(args: list[str], vietnamese: str) -> None:
    result = runner.invoke(app, ["extract", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.split(" extract: ", 1)[1].startswith(vietnamese)  # then " / " English


@pytest.mark.parametrize("where", ["option", "cell"])
def test_a_scope_hint_that_is_no_area_code_is_refused(tmp_path: Path, where: str) -> None:
    (tmp_path / "a.txt").write_text(UNDATED, encoding="utf-8")
    if where == "option":
        args = ["extract", str(tmp_path / "a.txt"), "--scope", "VN-99"]
    else:
        args = ["extract", "--hints", str(write_hints(tmp_path, ["a.txt\t2021\tVN38"]))]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == "" and "is not an area code" in result.stderr


def test_a_provincial_text_without_a_name_or_hint_has_no_scope(tmp_path: Path) -> None:
    report = tmp_path / "so-tttt.txt"
    report.write_text("Năm 2023, trên địa bàn tỉnh có 1.240 trạm BTS.", encoding="utf-8")
    unknown = facts_of(runner.invoke(app, ["extract", str(report), "--jsonl"]))
    hinted = facts_of(runner.invoke(app, ["extract", str(report), "--jsonl", "--scope", "VN-58"]))
    assert [f["scope"] for f in unknown] == [None]
    assert [f["scope"] for f in hinted] == ["VN-58"]
