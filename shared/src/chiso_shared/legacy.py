"""Old URLs keep answering for one release: a permanent redirect to the new form.

Two things were renamed in issue 19: area codes (`VN-38` became the GSO's own `38`, because
the old form looked like ISO 3166-2 and is not) and, on the gateway, parameters that named an
area differently from the rest of chiso (`org_unit` became `area`). A request that still uses
an old form gets a 308 to the same request in the new form (308 keeps the method and body),
marked `Deprecation: true` with a bilingual problem body that says what changed. Clients that
follow redirects (browsers, pandas, requests, httpx with follow_redirects) keep working and
can see, in the final URL, what to write next time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from chiso_shared.catalogue import code_of_scope, is_legacy_area
from chiso_shared.request_id import current_request_id

# Query parameters whose values are area codes (one, or a list joined by "," or "+").
AREA_PARAMETERS = frozenset({"area", "areas", "org_unit", "org_units", "orgUnit", "ou", "scope"})
_LEGACY_IN_PATH = re.compile(r"(?<![\w:])VN-\d{2}(?!\d)")
_LIST = re.compile(r"([,+;])")
DEPRECATION_HEADERS = ((b"deprecation", b"true"),)
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _area(value: str) -> str:
    return (code_of_scope(value) or value) if is_legacy_area(value) else value


def _areas(value: str) -> str:
    """A parameter value with each legacy code in it replaced (lists keep their separators)."""
    return "".join(_area(part) for part in _LIST.split(value))


def _path(path: str) -> str:
    return _LEGACY_IN_PATH.sub(lambda found: _area(found.group()), path)


def modernised(
    path: str,
    query: str,
    parameters: Mapping[str, str],
    paths: Mapping[str, str],
) -> tuple[str, str] | None:
    """The request's path and query in the current vocabulary, or None when they already are:
    legacy area codes in the path or in area parameters, renamed parameters (`parameters`:
    old name -> new name) and renamed path prefixes (`paths`)."""
    new_path = _path(path)
    for old, new in paths.items():
        if new_path == old or new_path.startswith(old + "/"):
            new_path = new + new_path[len(old) :]
    pairs = parse_qsl(query, keep_blank_values=True)
    new_pairs = [
        (parameters.get(name, name), _areas(value) if name in AREA_PARAMETERS else value)
        for name, value in pairs
    ]
    if new_path == path and new_pairs == pairs:
        return None
    return new_path, urlencode(new_pairs)


class LegacyRedirectMiddleware:
    """Pure ASGI: answers a request in an old form with a 308 to its new form."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        namespace: str,
        parameters: Mapping[str, str] | None = None,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.namespace = namespace
        self.parameters = dict(parameters or {})
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        new = modernised(scope["path"], query, self.parameters, self.paths)
        if new is None:
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        location = quote(root + new[0], safe=PATH_SAFE) + (f"?{new[1]}" if new[1] else "")
        await _redirect(send, location, scope["path"], self.namespace)


async def _redirect(send: Send, location: str, instance: str, namespace: str) -> None:
    code = f"{namespace}.moved_permanently"
    body = json.dumps(
        {
            "type": f"urn:chiso:problem:{code}",
            "title": "Moved permanently",
            "status": 308,
            "code": code,
            "detail": (
                f"This address uses an old form (an area code like VN-38, now 38, or an old "
                f"parameter name); it answers for one release more. Use {location}. / Địa chỉ "
                f"này dùng dạng cũ (mã địa bàn kiểu VN-38, nay là 38, hoặc tên tham số cũ); "
                f"chỉ còn dùng được trong một phiên bản nữa. Hãy dùng {location}."
            ),
            "instance": instance,
            "request_id": current_request_id(),
            "errors": [],
        },
        ensure_ascii=False,
    ).encode()
    headers = [
        (b"location", location.encode("latin-1", "replace")),
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *DEPRECATION_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 308, "headers": headers})
    await send({"type": "http.response.body", "body": body})
