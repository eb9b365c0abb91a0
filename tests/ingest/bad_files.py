"""The bad-file corpus: files that must each get a 4xx problem, never a 500 or a stored document.

Generated rather than committed, so the corpus stays small in the repository and every case
says why it is bad. `python -m tests.ingest.bad_files DIR` writes it out for manual runs.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.ingest.builders import (
    DOCX,
    blank_pdf,
    docx_with_dtd,
    encrypted_pdf,
    image_only_pdf,
    make_docx,
    make_pdf,
    many_parts_docx,
    noise,
    zip_bomb,
)

PDF = "application/pdf"
TEXT = "text/plain"
HTML = "text/html"
REPORT = "Năm 2023, tổng số thuê bao điện thoại của tỉnh đạt 3.100.000 thuê bao."

# The limits the corpus test runs with (small, so "huge" stays cheap to build).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_CHARS = 200_000
MAX_PAGES = 5


@dataclass(frozen=True)
class BadFile:
    name: str
    content: bytes
    media_type: str
    status: int
    code: str


def _replace_part(docx: bytes, part: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, data if item.filename == part else source.read(item.filename))
    return out.getvalue()


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", REPORT)
    return out.getvalue()


def corpus() -> list[BadFile]:
    docx = make_docx([REPORT])
    pdf = make_pdf([REPORT])
    return [
        BadFile("empty.txt", b"", TEXT, 422, "ingest.empty"),
        BadFile("blank.txt", b"  \n\t \r\n ", TEXT, 422, "ingest.empty"),
        BadFile("empty.docx", b"", DOCX, 422, "ingest.empty"),
        BadFile("empty.pdf", b"", PDF, 422, "ingest.empty"),
        BadFile("noise.txt", noise(4096, 1), TEXT, 422, "ingest.unknown_encoding"),
        BadFile("noise.pdf", noise(4096, 2), PDF, 422, "ingest.bad_pdf"),
        BadFile("noise.docx", noise(4096, 3), DOCX, 422, "ingest.bad_docx"),
        BadFile("noise.html", noise(4096, 4), HTML, 422, "ingest.unknown_encoding"),
        BadFile("controls.txt", bytes(range(1, 32)) * 64, TEXT, 422, "ingest.binary_content"),
        BadFile(
            "gzip.txt", gzip.compress(REPORT.encode() * 50), TEXT, 422, "ingest.unknown_encoding"
        ),
        BadFile("truncated.docx", docx[: len(docx) // 2], DOCX, 422, "ingest.bad_docx"),
        BadFile("truncated.pdf", pdf[:300], PDF, 422, "ingest.bad_pdf"),
        BadFile("headless.pdf", b"%PDF-1.7\n%%EOF\n", PDF, 422, "ingest.bad_pdf"),
        BadFile(
            "loop.pdf",
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[2 0 R]/Count 1>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n",
            PDF,
            422,
            "ingest.bad_pdf",
        ),
        BadFile("zip-bomb.docx", zip_bomb(), DOCX, 413, "ingest.zip_bomb"),
        BadFile("many-parts.docx", many_parts_docx(1500), DOCX, 413, "ingest.zip_bomb"),
        BadFile("dtd.docx", docx_with_dtd(), DOCX, 422, "ingest.docx_dtd"),
        BadFile(
            "broken-xml.docx",
            _replace_part(docx, "word/document.xml", b"<w:document><w:body><w:p>"),
            DOCX,
            422,
            "ingest.bad_docx",
        ),
        BadFile("not-word.docx", _plain_zip(), DOCX, 422, "ingest.bad_docx"),
        BadFile("pdf-as.docx", pdf, DOCX, 422, "ingest.bad_docx"),
        BadFile("docx-as.pdf", docx, PDF, 422, "ingest.bad_pdf"),
        BadFile("no-text.docx", make_docx([]), DOCX, 422, "ingest.empty"),
        BadFile("encrypted.pdf", encrypted_pdf(REPORT), PDF, 422, "ingest.encrypted_pdf"),
        BadFile("image-only.pdf", image_only_pdf(), PDF, 422, "ingest.image_only_pdf"),
        BadFile("blank-pages.pdf", blank_pdf(3), PDF, 422, "ingest.image_only_pdf"),
        BadFile("many-pages.pdf", make_pdf([REPORT] * 6), PDF, 413, "ingest.too_many_pages"),
        BadFile("huge.txt", b"a" * (MAX_UPLOAD_BYTES + 1), TEXT, 413, "ingest.too_large"),
        BadFile("many-chars.txt", b"a " * MAX_CHARS, TEXT, 413, "ingest.too_many_chars"),
        BadFile(
            "many-chars.docx",
            make_docx(["thuê bao " * 1000] * 25),
            DOCX,
            413,
            "ingest.too_many_chars",
        ),
        BadFile(
            "latin1.txt",
            "Le café crème coûte élevé".encode("latin-1"),
            TEXT,
            422,
            "ingest.unknown_encoding",
        ),
        BadFile(
            "shift-jis.txt",
            "東京都の人口は増えた".encode("shift_jis"),
            TEXT,
            422,
            "ingest.unknown_encoding",
        ),
        BadFile("bad-utf16.txt", b"\xff\xfe" + b"\x00\xd8" * 8, TEXT, 422, "ingest.bad_encoding"),
        BadFile(
            "scripts-only.html",
            b"<html><head><script>document.write('N\xc4\x83m 2023')</script></head>"
            b"<body><script src='a.js'></script>"
            b"<noscript>B\xe1\xba\xadt JavaScript</noscript></body></html>",
            HTML,
            422,
            "ingest.empty",
        ),
        BadFile(
            "nav-only.html",
            "<html><body><nav><a href='/'>Trang chủ</a><a href='/lh'>Liên hệ</a></nav>"
            "<footer>© Sở TT&TT</footer></body></html>".encode(),
            HTML,
            422,
            "ingest.empty",
        ),
        BadFile("comments.html", b"<!-- nothing here -->", HTML, 422, "ingest.bad_html"),
        BadFile(
            "image.png",
            b"\x89PNG\r\n\x1a\n" + noise(512, 5),
            "image/png",
            415,
            "ingest.unsupported_media_type",
        ),
        BadFile(
            "tool.exe",
            b"MZ" + noise(512, 6),
            "application/x-msdownload",
            415,
            "ingest.unsupported_media_type",
        ),
        BadFile(
            "sheet.xlsx",
            _plain_zip(),
            "application/vnd.ms-excel",
            415,
            "ingest.unsupported_media_type",
        ),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for bad in corpus():
        (target / bad.name).write_bytes(bad.content)
