"""Every public function, class and method of the package has a docstring (issue 10).

Public: not starting with an underscore, in a module not starting with one, at module level
or in a public class. Dunder methods, property setters and Protocol stubs whose class has a
docstring are public too, except ``__init__`` (the class's docstring covers construction)
and the other dunders.
"""

from __future__ import annotations

import ast
from pathlib import Path

import resync_fsm

PACKAGE = Path(resync_fsm.__file__).parent


def undocumented() -> list[str]:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if any(part.startswith("_") and part != "__init__.py" and part != "__main__.py"
               for part in path.relative_to(PACKAGE).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE.parent)
        if ast.get_docstring(tree) is None:
            missing.append(f"{where}: module")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name.startswith("_"):
                    continue
                if ast.get_docstring(node) is None:
                    missing.append(f"{where}:{node.lineno} {node.name}")
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if (isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_")
                                and ast.get_docstring(item) is None):
                            missing.append(f"{where}:{item.lineno} {node.name}.{item.name}")
    return missing


def test_every_public_function_class_and_method_has_a_docstring() -> None:
    missing = undocumented()
    assert missing == [], "\n".join(missing)
