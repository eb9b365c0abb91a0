"""Files the ingest tests build themselves: DOCX, PDF, HTML, legacy encodings, bad files."""

from __future__ import annotations

import io
import os
import random
import unicodedata
import zipfile
from pathlib import Path

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from chiso_ingest.formats import legacy

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
TONES = {"\u0301", "\u0300", "\u0309", "\u0303", "\u0323"}


def unicode_font() -> Path | None:
    for folder in FONT_DIRS:
        if (folder / "DejaVuSans.ttf").is_file():
            return folder / "DejaVuSans.ttf"
    return None


def make_docx(
    paragraphs: list[str],
    tables: list[list[list[str]]] = (),  # type: ignore[assignment]
    *,
    font: str | None = None,
) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        run = document.add_paragraph().add_run(text)
        if font:
            run.font.name = font
    for rows in tables:
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    font = unicode_font()
    if font is not None:
        pdf.add_font("dejavu", fname=str(font))
        pdf.set_font("dejavu", size=11)
    else:
        pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (200, 80), "white")
    for x in range(20, 180):
        image.putpixel((x, 40), (0, 0, 0))
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=100)
    return bytes(pdf.output())


def blank_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(text: str, user_password: str = "bi-mat", algorithm: str = "RC4-128") -> bytes:
    """A PDF of `text` encrypted with `algorithm`; an empty user password opens it for anyone
    (only the owner's permissions are protected), as many published reports are."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=user_password, owner_password="chu", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bomb(size: int = 60 * 1024 * 1024) -> bytes:
    """A DOCX-looking zip whose document part inflates from a few KB to `size` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()


def many_parts_docx(parts: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for index in range(parts):
            archive.writestr(f"word/media/p{index}.bin", b"x")
    return out.getvalue()


def docx_with_dtd() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(make_docx(["Báo cáo"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(
                    b"?>",
                    b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
                    1,
                )
            archive.writestr(item, data)
    return out.getvalue()


def to_cp1258(text: str) -> bytes:
    """Windows-1258 keeps tone marks as combining characters after the (modified) letter."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(p for p in parts if p in TONES)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


def to_tcvn3(text: str) -> bytes:
    inverse = {letter: chr(code) for code, letter in legacy.tcvn3_table().items()}
    return "".join(inverse.get(char, char) for char in text).encode("latin-1")


def noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def urandom(size: int) -> bytes:
    return os.urandom(size)
