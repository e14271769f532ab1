"""Each function's environment variables for the whole run, though every function shares one process.

On Lambda a function's variables (its own, and the ones Lambda defines: ``AWS_REGION``,
``AWS_LAMBDA_FUNCTION_NAME``, ...) are the environment of its process from the cold start on, so
handler code may read ``os.environ`` at import or at call time alike (Lambda developer guide,
"Defined runtime environment variables"). Here many functions run in threads of one process, so
the process environment cannot be any one function's.

While a sandbox runs, ``os.environ`` is made thread-aware (:func:`install`): the very object
(every ``from os import environ`` holds it too) gets a subclass of the standard library's mapping
whose reads first consult the variables of the function the current thread is running
(:class:`FunctionEnvironment`), and whose writes from such a thread change that function's
variables only, as a write changes only its own process on Lambda. Threads running no function
see the process environment unchanged. :func:`uninstall` gives ``os.environ`` its own class back.

What stays process-wide: the C-level environment (``subprocess`` children, ``time.tzset``), so
``TZ=:UTC`` is a variable a handler can read, not the process's time zone; and a thread a handler
starts itself runs without its function's variables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, MutableMapping

_current = threading.local()
#: ``None`` in a function's variables: deleted by the function (it hides the process's value).
Variables = MutableMapping[str, str | None]


def current_variables() -> Variables | None:
    """The variables of the function this thread runs, if any."""
    return getattr(_current, "variables", None)


class FunctionEnvironment:
    """Marks this thread as running a function whose environment is ``variables`` (nests)."""

    def __init__(self, variables: Variables) -> None:
        """Scope of one import or invocation; ``variables`` is the function's own, kept between runs."""
        self.variables = variables

    def __enter__(self) -> None:
        """From now on this thread's ``os.environ`` is the function's."""
        self.previous = current_variables()
        _current.variables = self.variables

    def __exit__(self, *exc: object) -> None:
        """Back to what this thread saw before."""
        _current.variables = self.previous


class ThreadAwareEnviron(os._Environ):
    """``os.environ`` as each thread's function sees it (see the module docstring)."""

    def __getitem__(self, key: str) -> str:
        """The function's value, else the process's."""
        variables = current_variables()
        if variables is not None and key in variables:
            value = variables[key]
            if value is None:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        """Set in the function's variables (from a function's thread), else in the process."""
        variables = current_variables()
        if variables is None:
            super().__setitem__(key, value)
            return
        # The same TypeError as os.environ's for a name or value that is not a str.
        self.encodekey(key)
        self.encodevalue(value)
        variables[key] = value

    def __delitem__(self, key: str) -> None:
        """Delete from the function's view (from a function's thread), else from the process."""
        variables = current_variables()
        if variables is None:
            super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        variables[key] = None

    def __iter__(self) -> Iterator[str]:
        """The names this thread sees."""
        variables = current_variables()
        if variables is None:
            yield from super().__iter__()
            return
        yield from (key for key in list(super().__iter__()) if key not in variables)
        yield from (key for key, value in list(variables.items()) if value is not None)

    def __len__(self) -> int:
        """How many names this thread sees."""
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        """A plain dict of what this thread sees."""
        return dict(self)


def install() -> None:
    """Make ``os.environ`` thread-aware (idempotent)."""
    if type(os.environ) is os._Environ:
        os.environ.__class__ = ThreadAwareEnviron


def uninstall() -> None:
    """Give ``os.environ`` the standard library's class back."""
    if type(os.environ) is ThreadAwareEnviron:
        os.environ.__class__ = os._Environ  # pyrefly: ignore[bad-argument-type]
