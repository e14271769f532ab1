"""Keep moto's Step Functions interpreter from importing all of EC2 (about 1.5 s per process).

The interpreter's Batch integration imports ``JobStatus`` from ``moto.batch.utils``. Importing
that module the usual way first runs ``moto.batch``'s ``__init__``, which imports Batch's models,
which import EC2's: three botocore endpoint tables parsed for the region list, and the catalogue of
instance types. The sandbox, its tests and ``make sandbox`` never use Batch or EC2, yet paid that
on every start.

:func:`load_batch_utils_alone` loads ``moto.batch.utils`` (and the ``exceptions`` module it
imports) without running the package's ``__init__``. Nothing else changes: the first import of
``moto.batch`` itself still runs it in full, and Batch's models then use the same ``utils``
module. :func:`install` has that happen just before ``moto.stepfunctions`` is first imported,
so importing the sandbox package imports nothing of moto (``make sandbox`` checks its ports
before any of it).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType


class _BeforeStepFunctions(importlib.abc.MetaPathFinder):
    """Consulted first on each import; on the first of ``moto.stepfunctions``, loads Batch's utils alone."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Never finds anything itself: the usual finders import ``moto.stepfunctions`` next."""
        if fullname == "moto.stepfunctions":
            uninstall()
            load_batch_utils_alone()
        return None


_FINDER = _BeforeStepFunctions()


def install() -> None:
    """Load ``moto.batch.utils`` alone right before ``moto.stepfunctions`` is first imported."""
    if "moto.stepfunctions" not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Stop watching imports (idempotent)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def load_batch_utils_alone() -> None:
    """Import ``moto.batch.utils`` without running ``moto.batch``'s ``__init__``."""
    load_submodule_alone("moto.batch", "utils")


def load_submodule_alone(package: str, submodule: str) -> None:
    """Import ``package.submodule`` under a placeholder of ``package`` (not executed), then drop it.

    The submodule stays imported; ``package`` is imported in full by whoever asks for it first.
    """
    name = f"{package}.{submodule}"
    if package in sys.modules or name in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None:  # not installed: nothing to avoid
        return
    sys.modules[package] = importlib.util.module_from_spec(spec)  # the package, not executed
    try:
        importlib.import_module(name)
    finally:
        del sys.modules[package]
