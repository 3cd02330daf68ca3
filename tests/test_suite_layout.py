"""The suite's own layout: shared helpers live in helper modules, never in test modules.

A helper imported from a test module drags that module's fixtures and tests along (pytest
then also collects them under the importer's name) and ties one test file to another; move it
to a helper module (`tests/*_harness.py`, `tests/builders.py`, `tests/polling.py` ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_test_modules(path: Path) -> list[str]:
    """Every `tests.test_*` module (absolute or relative import) that `path` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] if base else [alias.name for alias in node.names]
            if node.level == 0 and base == "tests":  # from tests import test_x
                names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.rsplit(".", 1)[-1].startswith("test_")]
    return found


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    offenders = {
        str(path.relative_to(TESTS)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if (imported := imported_test_modules(path))
    }
    assert offenders == {}, f"move these helpers out of test modules: {offenders}"


def test_the_check_sees_each_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import tests.test_a\nfrom tests.test_b import x\n"
                      "from tests import test_c\nfrom .test_d import y\n"
                      "from tests.builders import z\nimport tests.polling\n"
                      "def f():\n    from tests.test_e import w\n")
    assert imported_test_modules(module) == [
        "tests.test_a", "tests.test_b", "test_c", "test_d", "tests.test_e"]
