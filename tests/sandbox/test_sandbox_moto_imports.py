"""``sandbox.aws.moto_imports``: one module of a package loads without the package, which still imports in full."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.aws import moto_imports

PACKAGE = "heavy_package_for_test"


@pytest.fixture
def heavy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package whose ``__init__`` logs each run and imports its own ``utils``, as moto.batch does."""
    package = tmp_path / PACKAGE
    package.mkdir()
    runs = tmp_path / "init-runs.log"
    (package / "__init__.py").write_text(
        f"with open({str(runs)!r}, 'a') as runs:\n    runs.write('ran\\n')\nfrom .utils import Status\n"
    )
    (package / "utils.py").write_text("from .errors import Invalid\n\nclass Status:\n    pass\n")
    (package / "errors.py").write_text("class Invalid(Exception):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _init_runs(package: Path) -> int:
    runs = package.parent / "init-runs.log"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def test_a_submodule_loads_without_its_package_which_later_imports_in_full(heavy_package: Path) -> None:
    # GIVEN a package whose __init__ is heavy
    # WHEN one of its submodules is loaded alone
    moto_imports.load_submodule_alone(PACKAGE, "utils")
    # THEN the submodule and what it imports relatively are loaded, and the package's __init__ never ran
    utils = sys.modules[f"{PACKAGE}.utils"]
    assert f"{PACKAGE}.errors" in sys.modules
    assert PACKAGE not in sys.modules
    assert _init_runs(heavy_package) == 0
    # AND importing the package afterwards runs its __init__ once, on the same submodule
    package = importlib.import_module(PACKAGE)
    assert _init_runs(heavy_package) == 1
    assert package.Status is utils.Status
    # AND loading alone again is a no-op
    moto_imports.load_submodule_alone(PACKAGE, "utils")
    assert sys.modules[PACKAGE] is package


def test_the_finder_loads_batch_utils_once_just_before_step_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the finder watching imports, with loading recorded
    loads: list[str] = []
    monkeypatch.setattr(moto_imports, "load_batch_utils_alone", lambda: loads.append("batch utils"))
    monkeypatch.setattr(sys, "meta_path", [moto_imports._FINDER, *sys.meta_path])
    finder = moto_imports._FINDER
    # WHEN other modules are imported, then moto.stepfunctions, then moto.stepfunctions again
    others = [finder.find_spec(name, None) for name in ("moto", "moto.sns", "moto.stepfunctions.models")]
    first = finder.find_spec("moto.stepfunctions", None)
    # THEN only moto.stepfunctions loads Batch's utils, once; the finder never finds a module
    # itself and leaves the import system at once
    assert loads == ["batch utils"]
    assert others == [None, None, None] and first is None
    assert finder not in sys.meta_path
