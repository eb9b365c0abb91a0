"""What a review makes of the fact at its span: the rules of each action, and their 4xx.

Pure functions of the request, the effective fact at the span (if any) and the document; the
service stores what they return.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from chiso_ingest.reviews.schemas import FactFields, ReviewIn
from chiso_shared.catalogue import indicators, scope_codes
from chiso_shared.errors import Conflict, FieldError, NotFound, Unprocessable
from chiso_shared.facts import Fact, ReviewMark

MAX_TEXT = 200  # `Fact.text`


def reviewed_fact(
    body: ReviewIn,
    current: dict[str, Any] | None,
    *,
    text: str,
    filename: str,
    mark: ReviewMark | None,
) -> dict[str, Any] | None:
    """The fact as reviewed (GUIDELINE JSON with its `review` mark), None for a rejection.

    accept, correct and reject need a fact at `start` (404), add needs none (409)."""
    if body.action == "add":
        if current is not None:
            raise Conflict(
                f"Đã có dữ kiện ở vị trí {body.start}: hãy sửa nó thay vì thêm. / There is "
                f"already a fact at {body.start}: correct it instead of adding one.",
                code="ingest.fact_exists",
                errors=[FieldError(field="body.start", message="a fact starts here")],
            )
        _only(body, "fact")
        return _added(body, text, filename, mark)
    if current is None:
        raise NotFound(
            f"Không có dữ kiện nào bắt đầu ở vị trí {body.start}. / No fact starts at "
            f"{body.start}.",
            code="ingest.unknown_fact",
            errors=[FieldError(field="body.start", message="no fact starts here")],
        )
    _same_span(body, current)
    if body.action == "reject":
        _only(body)
        return None
    if body.action == "accept":
        _only(body)
        return _validated({**current, **_settled(mark)}, "body")
    _only(body, "changes")
    assert body.changes is not None
    changes = body.changes.given()
    if not changes:
        raise _invalid("body.changes", "names no field", "không nêu trường nào cần sửa")
    return _validated({**current, **changes, **_settled(mark)}, "body.changes")


def _settled(mark: ReviewMark | None) -> dict[str, Any]:
    """A person's word settles the extractor's doubts: none are left on a reviewed fact."""
    review = None if mark is None else mark.model_dump(mode="json")
    return {"doubts": [], "confidence": 1.0, "review": review}


def _added(body: ReviewIn, text: str, filename: str, mark: ReviewMark | None) -> dict[str, Any]:
    if body.end > len(text):
        raise _invalid(
            "body.end",
            f"is past the end of the text ({len(text)} characters)",
            f"vượt quá cuối văn bản ({len(text)} ký tự)",
        )
    span = text[body.start : body.end]
    if not span.strip():
        raise _invalid("body.end", "the span holds no text", "đoạn được chọn không có chữ")
    if len(span) > MAX_TEXT:
        raise _invalid(
            "body.end", f"the span is over {MAX_TEXT} characters", f"đoạn dài quá {MAX_TEXT} ký tự"
        )
    assert body.fact is not None
    fields = {"doc": filename, "start": body.start, "end": body.end, "text": span}
    return _validated({**body.fact.given(), **fields, **_settled(mark)}, "body.fact")


def _validated(data: dict[str, Any], where: str) -> dict[str, Any]:
    """`data` as a valid fact of known codes, or a 422 naming the fields at `where`."""
    try:
        fact = Fact.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(field=".".join([where, *(str(p) for p in err["loc"])]), message=err["msg"])
            for err in exc.errors()
        ]
        raise Unprocessable(
            "Dữ kiện sau khi duyệt không hợp lệ. / The fact as reviewed is not valid.",
            code="ingest.invalid_review",
            errors=errors,
        ) from exc
    _known_codes(fact, where)
    return fact.to_jsonl_dict()


@cache
def _indicator_codes() -> frozenset[str]:
    return frozenset(row.code for row in indicators())


def _known_codes(fact: Fact, where: str) -> None:
    errors = []
    if fact.indicator is not None and fact.indicator not in _indicator_codes():
        errors.append(FieldError(field=f"{where}.indicator", message="unknown indicator code"))
    if fact.scope not in (None, "sub") and fact.scope not in scope_codes():
        errors.append(FieldError(field=f"{where}.scope", message="unknown area code"))
    if errors:
        raise Unprocessable(
            "Mã chỉ tiêu hoặc mã địa bàn không có trong danh mục. / The indicator or area code "
            "is not in the catalogue.",
            code="ingest.unknown_code",
            errors=errors,
        )


def _same_span(body: ReviewIn, current: dict[str, Any]) -> None:
    if body.end != current["end"]:
        raise _invalid(
            "body.end",
            f"the fact at {body.start} ends at {current['end']}",
            f"dữ kiện ở vị trí {body.start} kết thúc ở {current['end']}",
        )


def _only(body: ReviewIn, *allowed: str) -> None:
    """`changes` is for a correction and `fact` for an addition: each required there and
    refused elsewhere."""
    for name in ("changes", "fact"):
        given: FactFields | None = getattr(body, name)
        if name in allowed and given is None:
            raise _invalid(
                f"body.{name}", f"is required to {body.action}", f"bắt buộc khi {body.action}"
            )
        if name not in allowed and given is not None:
            raise _invalid(
                f"body.{name}",
                f"is not taken by {body.action}",
                f"không dùng cho {body.action}",
            )


def _invalid(field: str, english: str, vietnamese: str) -> Unprocessable:
    return Unprocessable(
        f"Yêu cầu duyệt không hợp lệ: {field} {vietnamese}. / The review is not valid: "
        f"{field} {english}.",
        code="ingest.invalid_review",
        errors=[FieldError(field=field, message=english)],
    )
