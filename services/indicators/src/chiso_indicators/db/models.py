"""The indicators database: catalogue, areas, documents, series and versioned observations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso_shared.db import Base, UtcTimestamp, new_metadata, utcnow


class IndicatorsBase(Base):
    __abstract__ = True
    metadata = new_metadata()


class Indicator(IndicatorsBase):
    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(200), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(Text, default="")


class Area(IndicatorsBase):
    """A GSO code: its current name, and when the code itself started and ended."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    code_list: Mapped[str] = mapped_column(String(8), default="")
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    successor: Mapped[str] = mapped_column(String(16), default="")

    versions: Mapped[list[AreaVersion]] = relationship(
        lazy="raise", order_by="AreaVersion.valid_from"
    )


class AreaVersion(IndicatorsBase):
    """What a code named on one code list (2004 or 2025), when, and the 2025 code that took
    a 2004-list province over: the merger mapping."""

    __tablename__ = "area_versions"

    code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    code_list: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    successor: Mapped[str] = mapped_column(String(16), default="")
    # ISO 3166-2 where ISO coded this version (the 63 provinces of 2004), else ""
    iso_3166_2: Mapped[str] = mapped_column(String(8), default="", server_default="")


class SourceDocument(IndicatorsBase):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    title: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    source_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    issuer: Mapped[str | None] = mapped_column(String(500), nullable=True)
    published: Mapped[str] = mapped_column(String(10), default="")
    extractor_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)


class Series(IndicatorsBase):
    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint(
            "indicator_code", "area_code", "frequency", "measure", "transformation", "unit"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicators.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    frequency: Mapped[str] = mapped_column(String(2))
    measure: Mapped[str] = mapped_column(String(16))
    transformation: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))


class Observation(IndicatorsBase):
    """One version of a value; versions are never updated except for the `current` flag."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("series_id", "period", "fingerprint"),
        Index("ix_observations_current", "series_id", "period", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    period: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    of: Mapped[float | None] = mapped_column(Float, nullable=True)
    max: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(1))
    published: Mapped[str] = mapped_column(String(10), default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    # the precedence rule that made the current version current (`chosen_by` of the read
    # answers): only, reviewed, status, publication or value; null on versions not current
    chosen_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)

    sources: Mapped[list[Provenance]] = relationship(
        back_populates="observation", lazy="raise", order_by="Provenance.id"
    )


class Provenance(IndicatorsBase):
    __tablename__ = "provenance"
    __table_args__ = (
        UniqueConstraint("observation_id", "document_id", "start"),
        CheckConstraint(
            "review_action IS NULL OR review_action IN ('accept', 'correct', 'add')",
            name="review_action",
        ),
        # a review mark is whole or absent: who, when and what together
        CheckConstraint(
            "(review_action IS NULL) = (reviewed_by IS NULL) "
            "AND (review_action IS NULL) = (reviewed_at IS NULL)",
            name="review_mark",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    extractor_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    # why the extractor doubts the fact (`DoubtCode`s, space-separated) and its confidence;
    # sources stored before doubts were recorded have none and 1.0
    doubts: Mapped[str] = mapped_column(String(500), default="", server_default="")
    confidence: Mapped[float] = mapped_column(Float, default=1.0, server_default=sql_text("1.0"))
    # set when a person reviewed the fact in ingest (`chiso_shared.facts.ReviewMark`): such a
    # source makes its version current over every version without one
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcTimestamp(), nullable=True)
    review_action: Mapped[str | None] = mapped_column(String(8), nullable=True)

    observation: Mapped[Observation] = relationship(back_populates="sources", lazy="raise")
    document: Mapped[SourceDocument] = relationship(lazy="raise")


class Withdrawal(IndicatorsBase):
    """A time a version had no source left (its facts were withdrawn), until one came back.

    Provenance rows are deleted when withdrawn; these rows keep when, so an `as_of` read
    leaves out a version over the time it stood on nothing."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    withdrawn_at: Mapped[datetime] = mapped_column(UtcTimestamp())
    restored_at: Mapped[datetime | None] = mapped_column(UtcTimestamp(), nullable=True)


class QualityFlag(IndicatorsBase):
    """A check that failed (`chiso_indicators.quality`): filed under the cell of its anchor,
    recomputed when the facts around it change, and resolved by a person."""

    __tablename__ = "quality_flags"
    __table_args__ = (
        CheckConstraint("severity IN ('error', 'warning', 'info')", name="severity"),
        CheckConstraint(
            "resolution IS NULL OR resolution IN ('accept', 'correct', 'explain')",
            name="resolution",
        ),
        # a resolution is whole or absent: what, who and when together
        CheckConstraint(
            "(resolution IS NULL) = (resolved_by IS NULL) "
            "AND (resolution IS NULL) = (resolved_at IS NULL)",
            name="resolution_mark",
        ),
        Index("ix_quality_flags_cell", "indicator_code", "area_code", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # the finding's identity (rule and the versions it involves): the same finding raised
    # again keeps its row and its resolution
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicators.code"))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    period: Mapped[str] = mapped_column(String(32))
    figures: Mapped[dict[str, float]] = mapped_column(JSON)
    message_vi: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    resolution: Mapped[str | None] = mapped_column(String(8), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcTimestamp(), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_observation_id: Mapped[int | None] = mapped_column(
        ForeignKey("observations.id"), nullable=True
    )

    parts: Mapped[list[QualityFlagObservation]] = relationship(
        lazy="raise", order_by="QualityFlagObservation.observation_id"
    )


class QualityFlagObservation(IndicatorsBase):
    """A version a flag concerns, and its part in the check (stated, level, previous, …)."""

    __tablename__ = "quality_flag_observations"

    flag_id: Mapped[int] = mapped_column(
        ForeignKey("quality_flags.id", ondelete="CASCADE"), primary_key=True
    )
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id"), primary_key=True, index=True
    )
    part: Mapped[str] = mapped_column(String(32), primary_key=True)


class ImportBatch(IndicatorsBase):
    """A processed `Idempotency-Key`: the same key and body replay the stored summary."""

    __tablename__ = "import_batches"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)


class DataRevision(IndicatorsBase):
    """A single counter bumped by every import that changes data (for caches downstream)."""

    __tablename__ = "data_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
