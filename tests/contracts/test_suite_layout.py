"""The suite's own shape: a test module imports what it shares from tests.support only, never
from another test module or from conftest, so moving or deleting one test file breaks no other."""

import ast
from pathlib import Path

from tests.support.bodies import HERE


def foreign_imports(path: Path, root: Path = HERE.parent) -> list[str]:
    """The imports of `path` that reach into the suite anywhere but tests.support."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else [f"{'.' * node.level}{node.module}"]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            relative = name.startswith(".")
            suite = name == "tests" or name.startswith("tests.")
            if relative or (suite and not name.startswith("tests.support")):
                found.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    return found


def test_test_modules_import_only_from_support() -> None:
    modules = [*HERE.rglob("test_*.py"), *(HERE / "support").glob("*.py")]
    assert len(modules) > 40  # the scan found the suite
    assert [line for path in modules for line in foreign_imports(path)] == []


def test_the_scan_finds_an_import_of_another_test_module(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text(
        "from tests.conftest import x\nfrom tests.sync.test_sync import y\n"
        "import tests.audit.test_audit\nfrom .test_queries import z\n"
        "from tests.support.api import Api\nfrom tac_api.main import create_app\n"
    )
    assert len(foreign_imports(module, tmp_path)) == 4
