"""`chiso extract`: facts from report files offline, with no service running.

Files are read by the ingest service's own readers (`chiso_ingest.formats.read`, what the
upload path runs in its sandbox), so a DOCX, HTML or PDF gives here the text, and so the
facts, it gives after an upload. Plain text keeps the path it always had (`decode_text` and
`normalise`), so its facts stay byte-identical. The files are local and chosen by the person
running the command, so they are read in this process, not in a sandboxed child.

An unreadable file is reported on stderr and skipped; the other files are still extracted and
the command ends with status 1. Mistakes in the command itself (no file, a path that does not
exist, a `--hints` table without a `file` column or naming a missing file) end it with status 2
before any output.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chiso.ingest_cmd import collect
from chiso_shared.catalogue import resolve_area, scope_of
from chiso_shared.errors import ChisoError
from chiso_shared.facts import Fact

TEXT_TYPES = ("text/plain", "text/markdown")
# The JSONL fields in their order, `start` and `end` as one span; each header is Vietnamese
# then English.
COLUMNS = (
    ("tài liệu", "doc"),
    ("vị trí", "span"),
    ("chuỗi", "text"),
    ("giá trị", "value"),
    ("đơn vị", "unit"),
    ("đối tượng", "item"),
    ("vai trò", "role"),
    ("so với", "basis"),
    ("trên tổng", "of"),
    ("cận trên", "max"),
    ("kỳ", "period"),
    ("tình trạng", "status"),
    ("chỉ tiêu", "indicator"),
    ("phạm vi", "scope"),
    ("nhãn", "label"),
    ("điểm nghi ngờ", "doubts"),
    ("độ tin cậy", "confidence"),
)
HEADER = "\t".join(f"{vietnamese} ({english})" for vietnamese, english in COLUMNS) + "\n"
# What a reader's refusal code means, for the Vietnamese half of the message.
REASONS = {
    "ingest.bad_docx": "tệp DOCX hỏng hoặc không phải DOCX",
    "ingest.bad_pdf": "tệp PDF hỏng hoặc không phải PDF",
    "ingest.bad_html": "tệp HTML không đọc được",
    "ingest.empty": "tệp không có chữ nào",
    "ingest.image_only_pdf": "PDF chỉ có ảnh quét, không có lớp chữ",
    "ingest.encrypted_pdf": "PDF được bảo vệ bằng mật khẩu",
    "ingest.unknown_encoding": "không nhận ra bảng mã của văn bản",
    "ingest.bad_encoding": "văn bản sai bảng mã",
    "ingest.binary_content": "tệp nhị phân, không phải văn bản",
    "ingest.zip_bomb": "tệp DOCX bung ra quá lớn",
    "ingest.too_many_chars": "văn bản dài quá giới hạn",
    "ingest.too_many_pages": "PDF có quá nhiều trang",
}


class Unreadable(Exception):
    """One file could not be read; the message is for the person running the command."""


class BadCommand(Exception):
    """The command cannot run as given; nothing was extracted."""


@dataclass(frozen=True)
class Job:
    """One file to extract, with the hints for it."""

    path: Path
    published: str | None
    scope: str | None


def run(
    paths: list[Path],
    *,
    hints: Path | None,
    jsonl: bool,
    published: str | None,
    scope: str | None,
) -> int:
    """Extract every file and print its facts; the exit status (0, 1 or 2)."""
    try:
        jobs = plan(paths, hints, published, scope)
    except BadCommand as exc:
        print(f"chiso extract: {exc}", file=sys.stderr)
        return 2
    failures = extract_all(jobs, sys.stdout, jsonl=jsonl)
    if failures:
        print(
            f"chiso extract: {failures} tệp không đọc được (xem ở trên). / "
            f"{failures} file(s) could not be read (see above).",
            file=sys.stderr,
        )
    return 1 if failures else 0


def plan(
    paths: list[Path], hints: Path | None, published: str | None, scope: str | None
) -> list[Job]:
    """The files to extract in order: the paths given, or the rows of the hints table."""
    if hints is not None and paths:
        raise BadCommand(
            "dùng --hints thì không ghi thêm tệp trên dòng lệnh. / "
            "give either files or --hints, not both."
        )
    if hints is not None:
        return read_hints(hints, published, scope)
    if not paths:
        raise BadCommand("cần ít nhất một tệp hoặc --hints. / give at least one file or --hints.")
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise BadCommand(
            f"không có tệp hay thư mục {', '.join(missing)}. / "
            f"no such file or folder: {', '.join(missing)}."
        )
    return [Job(file, published, known_scope(scope, "--scope")) for file in collect(paths)]


def known_scope(scope: str | None, where: str) -> str | None:
    """The facts' `scope` for an area hint (`38`, `VN`, `iso:VN-21`, the old `VN-38`); a bad
    hint stops the command rather than being dropped, which would leave the scope unknown."""
    code = None if scope is None else resolve_area(scope)
    if scope is None or code is not None:
        return None if code is None else scope_of(code)
    raise BadCommand(
        f"{where}: {scope!r} không phải mã địa bàn (VN, 38, iso:VN-21). / "
        f"{where}: {scope!r} is not an area code (VN, 38, iso:VN-21)."
    )


def read_hints(table: Path, published: str | None, scope: str | None) -> list[Job]:
    """The jobs a hints TSV names. `file` is relative to the table's folder; an empty or absent
    `published`/`scope` cell falls back to the command-line option."""
    try:
        with table.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError) as exc:
        raise BadCommand(
            f"không đọc được bảng gợi ý {table}. / cannot read the hints table {table}: {exc}"
        ) from exc
    if "file" not in columns:
        raise BadCommand(
            f"bảng gợi ý {table} thiếu cột `file`. / the hints table {table} has no `file` column."
        )
    jobs: list[Job] = []
    for line, row in enumerate(rows, start=2):
        jobs.extend(_row_jobs(table, line, row, published, scope))
    return jobs


def _row_jobs(
    table: Path, line: int, row: dict[str, str | None], published: str | None, scope: str | None
) -> list[Job]:
    name = (row.get("file") or "").strip()
    path = table.parent / name
    if not name or not path.exists():
        raise BadCommand(
            f"{table} dòng {line}: không có tệp {path}. / {table} line {line}: no file {path}."
        )
    row_published = (row.get("published") or "").strip() or published
    row_scope = known_scope((row.get("scope") or "").strip() or scope, f"{table} dòng/line {line}")
    return [Job(file, row_published, row_scope) for file in collect([path])]


def extract_all(jobs: Iterable[Job], out: TextIO, *, jsonl: bool) -> int:
    """Print the facts of every job; the number of files that could not be read."""
    from chiso_ingest.extraction import extract

    if not jsonl:
        out.write(HEADER)
    failures = 0
    for job in jobs:
        try:
            text = document_text(job.path)
        except Unreadable as exc:
            out.flush()  # the facts printed so far come before the message
            print(f"chiso extract: {exc}", file=sys.stderr)
            failures += 1
            continue
        for fact in extract(text, doc=job.path.name, published=job.published, scope=job.scope):
            out.write(jsonl_line(fact) if jsonl else row(fact))
    return failures


def document_text(path: Path) -> str:
    """The normalised text of one file, by the reader its name calls for; `Unreadable` if none
    can read it."""
    from chiso_ingest.documents.decoding import decode_text, normalise
    from chiso_ingest.formats import READERS, Limits, media_type_of, read
    from chiso_ingest.formats.text_reader import refuse_binary

    media_type = media_type_of(None, path.name)
    try:
        content = path.read_bytes()
        if media_type in TEXT_TYPES or media_type not in READERS:
            text = normalise(decode_text(content))
            if media_type not in READERS:  # no known extension: refuse what is not text
                refuse_binary(text)
            return text
        return read(content, media_type, Limits(), list(READERS)).text
    except OSError as exc:
        raise Unreadable(f"không mở được {path}. / cannot open {path}: {exc.strerror}") from exc
    except ChisoError as exc:
        reason = REASONS.get(exc.code or "", "tệp không đọc được")
        raise Unreadable(
            f"không đọc được {path}: {reason}. / cannot read {path}: {exc.detail}"
        ) from exc
    except Exception as exc:  # a parser's own failure on a malformed file, as the sandbox treats it
        raise Unreadable(
            f"không đọc được {path}: tệp hỏng. / cannot read {path}: "
            f"{type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def jsonl_line(fact: Fact) -> str:
    return json.dumps(fact.to_jsonl_dict(), ensure_ascii=False) + "\n"


def row(fact: Fact) -> str:
    """One tab-separated line of the human-readable table."""
    cells = (
        fact.doc,
        f"{fact.start}-{fact.end}",
        fact.text,
        exact(fact.value),
        fact.unit.value,
        fact.item,
        fact.role.value,
        fact.basis.value if fact.basis else None,
        exact(fact.of) if fact.of is not None else None,
        exact(fact.max) if fact.max is not None else None,
        fact.period,
        fact.status.value,
        fact.indicator,
        fact.scope,
        fact.label,
        " ".join(doubt.value for doubt in fact.doubts) or None,
        f"{fact.confidence:g}",
    )
    return "\t".join(_cell(cell) for cell in cells) + "\n"


def exact(number: float) -> str:
    """The value exactly: integral values as integers (3258819, 4670000000000), others as the
    shortest decimal that reads back to the same float (4.44). No digit grouping: in Vietnamese
    `.` groups thousands, in English it is the decimal point, so a grouped number is ambiguous
    to one reader or the other; the `text` column shows the number as the report wrote it."""
    if number.is_integer():
        return str(int(number))
    return repr(number)


def _cell(value: str | None) -> str:
    """A cell that cannot break the table: tabs and line breaks become spaces; none is `-`."""
    if not value:
        return "-"
    return " ".join(value.replace("\t", " ").splitlines())
