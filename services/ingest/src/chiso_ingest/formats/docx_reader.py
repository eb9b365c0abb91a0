"""DOCX: paragraphs and tables in document order; every table cell keeps its provenance.

A DOCX is a zip, so it is checked before python-docx reads it (python-docx inflates each part
whole): entry count, total inflated size, inflation ratio, and no DTD in any XML part (OOXML
forbids them; refusing them closes XXE and billion-laughs).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from chiso_ingest.formats import legacy
from chiso_ingest.formats.base import Limits, Parsed, TextBuilder, unreadable
from chiso_shared.errors import PayloadTooLarge, Unprocessable

FONT = re.compile(rb'w:(?:ascii|hAnsi)="([^"]+)"')
CELL_SEPARATOR = " | "


def check_zip(content: bytes, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise unreadable("DOCX", f"it is not a valid zip archive ({exc}).") from exc
    if len(entries) > limits.max_zip_entries:
        raise _bomb(f"it has {len(entries)} parts; at most {limits.max_zip_entries} are read.")
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_unzipped_bytes:
        raise _bomb(f"it inflates to {total} bytes; the limit is {limits.max_unzipped_bytes}.")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > limits.max_zip_ratio:
            raise _bomb(
                f"part {entry.filename!r} inflates {ratio:.0f}-fold; "
                f"the limit is {limits.max_zip_ratio:.0f}."
            )
    if "word/document.xml" not in archive.namelist():
        raise unreadable("DOCX", "it has no word/document.xml (is it another zip file?).")
    return archive


def _bomb(detail: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"The DOCX looks like a zip bomb: {detail}", code="ingest.zip_bomb")


def _xml_parts(archive: zipfile.ZipFile) -> dict[str, bytes]:
    parts: dict[str, bytes] = {}
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
                raise unreadable("DOCX", f"part {name!r} is damaged ({exc}).") from exc
            if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                raise Unprocessable(
                    f"The DOCX part {name!r} declares a DTD, which DOCX files never do.",
                    code="ingest.docx_dtd",
                )
            parts[name] = data
    return parts


def _converter(parts: dict[str, bytes]) -> tuple[Callable[[str], str] | None, str | None]:
    fonts = {
        match.decode("utf-8", "replace")
        for name in ("word/document.xml", "word/styles.xml")
        for match in FONT.findall(parts.get(name, b""))
    }
    convert = legacy.legacy_font(fonts)
    if convert is legacy.from_tcvn3:
        return convert, "tcvn3"
    if convert is legacy.from_vni:
        return convert, "vni-windows"
    return None, None


def read_docx(content: bytes, limits: Limits) -> Parsed:
    archive = check_zip(content, limits)
    parts = _xml_parts(archive)
    convert, encoding = _converter(parts)
    try:
        document = docx.Document(io.BytesIO(content))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise unreadable("DOCX", f"python-docx cannot open it ({exc}).") from exc
    except MemoryError:  # the sandbox's limit, not a malformed file
        raise
    except Exception as exc:  # malformed XML surfaces as lxml errors of several types
        raise unreadable("DOCX", f"{type(exc).__name__}: {exc}") from exc
    builder = TextBuilder(limits.max_chars)
    _walk(document, builder, _better(convert) if convert else (lambda text: text))
    return builder.build(encoding)


def _better(convert: Callable[[str], str]) -> Callable[[str], str]:
    """Convert a piece only if that makes it read more like Vietnamese: legacy-font documents
    often mix in Unicode runs, which the conversion would garble."""

    def choose(text: str) -> str:
        converted = convert(text)
        if legacy.vietnamese_score(converted) > legacy.vietnamese_score(text):
            return converted
        return text

    return choose


def _walk(document: DocxDocument, builder: TextBuilder, convert: Callable[[str], str]) -> None:
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = convert(block.text)
            if text.strip():
                builder.add(text)
                builder.add("\n")
        elif isinstance(block, Table):
            _table(block, tables, builder, convert)
            tables += 1


def _table(table: Table, index: int, builder: TextBuilder, convert: Callable[[str], str]) -> None:
    """One line per row, cells joined by " | ", each cell a region (table, row, cell)."""
    for row_index, row in enumerate(table.rows):
        seen: set[int] = set()
        written = 0
        for cell_index, cell in enumerate(row.cells):
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            text = " ".join(convert(cell.text).split())
            if not text:
                continue
            if written:
                builder.add(CELL_SEPARATOR)
            builder.add(
                text, {"kind": "cell", "table": index, "row": row_index, "cell": cell_index}
            )
            written += 1
        if written:
            builder.add("\n")
    builder.add("\n")
