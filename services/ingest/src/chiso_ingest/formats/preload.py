"""Imported once by the fork server the sandboxes fork their children from, so that every
child starts with the readers imported and the extractor's lexicons compiled (half a second
each time otherwise)."""

from __future__ import annotations

import chiso_ingest.formats  # noqa: F401  # the readers, imported for the children
from chiso_ingest import extraction

extraction.extract("Năm 2023, tổng số thuê bao đạt 3.100.000 thuê bao.", doc="preload")
