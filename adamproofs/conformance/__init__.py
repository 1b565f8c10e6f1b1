"""The conformance suite: does an Adam implementation compute what Adam computes?

>>> from adamproofs.conformance import Checker
>>> checker = Checker("mypkg.optim:MyAdam", variant="paper")   # doctest: +SKIP
>>> report = checker.run()                                     # doctest: +SKIP
>>> assert report.conforms, report.table()                     # doctest: +SKIP

- :mod:`.protocol`: the adapter protocol every implementation is turned into
  (and the ten-line plain protocol for your own NumPy code);
- :mod:`.targets`: built-in targets and ``module.path:attr`` loading;
  :mod:`.options`: which target options apply, and the claims they make;
- :mod:`.model`: cases, runs, verdicts; :mod:`.drive`: running an implementation
  through a case; :mod:`.replay`: judging each step against the oracle;
- :mod:`.properties`: the properties, one module each; :mod:`.strategies` and
  :mod:`.cases`: their hypothesis strategies; :mod:`.fingerprint`: variant detection;
- :mod:`.runner`: :class:`Checker` and :func:`check`; :mod:`.report`: table, JSON,
  reproducers;
- :mod:`.cli`: ``adamproofs check``; :mod:`adamproofs.pytest_plugin`: the pytest plugin.

Importing this package imports no framework (torch, jax, keras are imported only
by the adapter that needs them).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Checker",
    "Hyper",
    "Implementation",
    "Session",
    "TargetError",
    "UsageError",
    "assert_conforms",
    "check",
    "load_target",
]


def assert_conforms(target: Any, **kwargs: Any) -> Any:
    """Run :func:`check` (same arguments, progress off) and raise ``AssertionError`` with
    the report's table unless every selected row was judged and passed; return the report
    otherwise. Bad settings raise :class:`UsageError` with the command line's messages.

    For a user's own test file::

        def test_my_adam():
            assert_conforms("mypkg.optim:MyAdam", variant="paper", profile="quick")
    """
    from ._runner import check

    kwargs.setdefault("progress", None)
    report = check(target, **kwargs)
    if not report.conforms:
        raise AssertionError("Adam implementation does not conform:\n" + report.summary())
    return report


def __getattr__(name: str) -> Any:
    if name in ("check", "Checker"):
        from . import _runner as runner

        return getattr(runner, name)
    if name == "load_target":
        from ._targets import load_target

        return load_target
    if name in ("Hyper", "Implementation", "Session", "TargetError", "UsageError"):
        from . import protocol

        return getattr(protocol, name)
    raise AttributeError(f"module 'adamproofs.conformance' has no attribute {name!r}")
