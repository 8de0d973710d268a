"""No module of the package re-exports: every name a module lists in ``__all__`` is defined
there, so an importer always names the module that holds the code (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "workstation"


def _reexports(path: Path) -> list[str]:
    """The names ``path`` lists in ``__all__`` without defining them at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined: set[str] = set()
    listed: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defined.add(target.id)
                    if target.id == "__all__" and isinstance(node.value, ast.List | ast.Tuple):
                        listed = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    return [name for name in listed if name not in defined]


def test_every_name_in_all_is_defined_where_it_is_listed() -> None:
    found = {
        str(path.relative_to(PACKAGE)): names
        for path in sorted(PACKAGE.rglob("*.py"))
        if (names := _reexports(path))
    }
    assert found == {}


def test_the_check_sees_a_reexport(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('from x import Y\n\n__all__ = ["Y", "f"]\n\n\ndef f(): ...\n')
    assert _reexports(module) == ["Y"]
