"""The suite's own layout: tests/ mirrors the source tree, and helpers live in tests/support/.

A test of `api/orders/` lives in `tests/api/orders/`, of `workflows/claim/` in
`tests/workflows/claim/`, of a top-level module (`logs.py`, `cli.py`) in `tests/`; whole-system
runs (a browser, `waybill dev`, the demo, soak and bench) in `tests/e2e/`. So a newcomer finds a
rule's tests where the rule lives.

A helper imported from a test module drags that module's fixtures and tests along (pytest
then also collects them under the importer's name) and ties one test file to another; move it
to tests/support/ (`*_harness.py`, `builders.py`, `polling.py` ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
# Not tests and not helpers: the suite's own machinery at its top.
TOP_FILES = {"__init__.py", "conftest.py", "record_histories.py"}


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
                      "from tests.support.builders import z\nimport tests.support.polling\n"
                      "def f():\n    from tests.test_e import w\n")
    assert imported_test_modules(module) == [
        "tests.test_a", "tests.test_b", "test_c", "test_d", "tests.test_e"]


def misplaced_modules(tests: Path, root: Path) -> list[str]:
    """Modules of the suite that break its layout: a test module in a folder that mirrors no
    source package (nor e2e/), or at the top without naming a top-level module (`test_logs.py`,
    `test_cli_keys.py`); a helper outside support/; a folder without `__init__.py` (two test
    files of one name in two folders would then clash)."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        rel = path.relative_to(tests)
        folder, name = rel.parent, rel.name
        if "histories" in rel.parts or name == "__init__.py":
            continue
        if not (path.parent / "__init__.py").exists():
            found.append(f"{rel}: its folder has no __init__.py")
        if folder.parts[:1] == ("support",):
            continue
        if not name.startswith("test_"):
            if not (folder == Path(".") and name in TOP_FILES):
                found.append(f"{rel}: a helper belongs in tests/support/")
        elif folder == Path("."):
            if name != "test_suite_layout.py" and not any(
                    name == f"test_{m.stem}.py" or name.startswith(f"test_{m.stem}_")
                    for m in root.glob("*.py")):
                found.append(f"{rel}: names no top-level module; it belongs in a package's folder")
        elif folder.parts[:1] != ("e2e",) and not (root / folder / "__init__.py").exists():
            found.append(f"{rel}: tests/{folder} mirrors no source package")
    return found


def test_tests_mirror_the_source_tree_and_helpers_live_in_support() -> None:
    assert misplaced_modules(TESTS, ROOT) == []


def test_the_layout_check_names_each_kind_of_misplacement(tmp_path: Path) -> None:
    root, tests = tmp_path, tmp_path / "tests"
    for package in ("api/orders", "tests/api/orders", "tests/ghost", "tests/support",
                    "tests/e2e/browser", "tests/loose"):
        (root / package).mkdir(parents=True)
        if package != "tests/loose":
            (root / package / "__init__.py").touch()
    for module in ("api/orders/router.py", "logs.py", "tests/conftest.py", "tests/test_logs.py",
                   "tests/test_transitions.py",
                   "tests/api/orders/test_events.py", "tests/api/orders/helpers.py",
                   "tests/ghost/test_x.py", "tests/support/polling.py",
                   "tests/e2e/browser/test_console.py", "tests/loose/test_y.py"):
        (root / module).write_text("")
    (root / "api" / "__init__.py").touch()
    (tests / "__init__.py").touch()
    (tests / "api" / "__init__.py").touch()
    assert misplaced_modules(tests, root) == [
        "api/orders/helpers.py: a helper belongs in tests/support/",
        "ghost/test_x.py: tests/ghost mirrors no source package",
        "loose/test_y.py: its folder has no __init__.py",
        "loose/test_y.py: tests/loose mirrors no source package",
        "test_transitions.py: names no top-level module; it belongs in a package's folder",
    ]
