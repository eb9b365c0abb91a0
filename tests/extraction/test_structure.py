"""The extraction package's shape: small functions and no module-level mutable state.

The engine is a pure library whose rules live in data; these checks keep it readable as it
grows (issue 15): a function over 40 lines is a stage or a rule waiting to be split out,
and state kept at module level would leak from one document into the next.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chiso_ingest.extraction as extraction

PACKAGE = Path(extraction.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 40
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "Counter", "OrderedDict", "deque"}
MUTABLE_NODES = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _is_mutable(value: ast.expr | None) -> bool:
    if isinstance(value, MUTABLE_NODES):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in MUTABLE_CALLS
    )


def long_functions(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        f"{f.name} ({(f.end_lineno or f.lineno) - f.lineno + 1} lines)"
        for f in _functions(tree)
        if (f.end_lineno or f.lineno) - f.lineno + 1 > MAX_LINES
    ]


def mutable_globals(source: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and _is_mutable(node.value):
            found.append(ast.unparse(node).split("=")[0].strip())
    found.extend(
        "global " + ", ".join(n.names) for n in ast.walk(tree) if isinstance(n, ast.Global)
    )
    return found


def test_the_package_has_sources() -> None:
    assert len(SOURCES) > 5


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_longer_than_40_lines(path: Path) -> None:
    assert long_functions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_level_mutable_state(path: Path) -> None:
    assert mutable_globals(path.read_text(encoding="utf-8")) == []


def test_the_checks_catch_what_they_look_for() -> None:
    body = "\n".join(f"    x = {i}" for i in range(MAX_LINES))
    assert long_functions(f"def f() -> None:\n{body}\n") == ["f (41 lines)"]
    assert long_functions("def f() -> None:\n    pass\n") == []
    source = "A = []\nB: dict[str, int] = {}\nC = set()\nD = (1, 2)\ndef f():\n    global E\n"
    assert mutable_globals(source) == ["A", "B: dict[str, int]", "C", "global E"]


def test_the_changes_a_mention_takes_are_its_fields() -> None:
    """`Mention.evolve` sets fields by name: `Changes` must list every field of `Mention`
    with its type (a field added to one and not the other would go unchecked)."""
    from typing import get_type_hints

    from chiso_ingest.extraction.mention import Changes, Mention

    assert get_type_hints(Changes) == get_type_hints(Mention)
    m = Mention(3, 5, "12")
    changed = m.evolve(value=12.0, period="2024")
    assert isinstance(changed, Mention)
    assert (changed.value, changed.period, changed.start, m.value) == (12.0, "2024", 3, 0.0)
