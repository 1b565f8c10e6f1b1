"""pytest plugin: run the conformance properties inside your own test session.

Registered through the ``pytest11`` entry point, so it is loaded by every pytest
run where adamproofs is installed, and it stays *inert* (it adds command-line
options and nothing else, and imports no framework and not even NumPy) unless a
target is given::

    pytest --adam-target=mypkg.optim:MyAdam [--adam-variant=paper]
           [--adam-profile=quick|default|thorough] [--adam-seed=0]
           [--adam-dtype=float16 ...] [--adam-kind=torch|optax|keras|plain]
           [--adam-option=KEY=VALUE ...]

or the environment variable ``ADAMPROOFS_TARGET`` (and ``ADAMPROOFS_VARIANT``,
``ADAMPROOFS_PROFILE``, ``ADAMPROOFS_SEED``). The settings are validated as
``adamproofs check`` validates them, with the same messages: a bad one stops the
session before any test runs. Then one test item per property and dtype (plus one for
the variant fingerprint) is added to the session, marked ``adamproofs``, so
``-m adamproofs`` selects only them. A failing item shows the finding and a
copy-pasteable reproducer.

From your own test file, without the plugin options::

    from adamproofs.conformance import assert_conforms

    def test_my_adam_conforms():
        assert_conforms("mypkg.optim:MyAdam", variant="paper", profile="quick")

(``adamproofs.conformance.check(...)`` returns the report itself; ``.conforms`` is the
answer and ``.table()`` the summary.)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .conformance._runner import Checker

_ENV = {
    "target": "ADAMPROOFS_TARGET",
    "variant": "ADAMPROOFS_VARIANT",
    "profile": "ADAMPROOFS_PROFILE",
    "seed": "ADAMPROOFS_SEED",
    "timeout": "ADAMPROOFS_TIMEOUT",
    "memory-limit": "ADAMPROOFS_MEMORY_LIMIT",
}

_CHECKER = pytest.StashKey["Checker"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adamproofs", "Adam conformance (adamproofs)")
    group.addoption(
        "--adam-target",
        default=None,
        metavar="TARGET",
        help="check this Adam (built-in name or module.path:attr); env ADAMPROOFS_TARGET",
    )
    group.addoption(
        "--adam-variant",
        default=None,
        metavar="NAME",
        help="require a variant (e.g. paper); env ADAMPROOFS_VARIANT",
    )
    group.addoption(
        "--adam-profile",
        default=None,
        metavar="{quick,default,thorough}",
        help="examples per property (default: default); env ADAMPROOFS_PROFILE",
    )
    group.addoption(
        "--adam-seed",
        default=None,
        metavar="SEED",
        help="hypothesis seed, a non-negative int (default 0); env ADAMPROOFS_SEED",
    )
    group.addoption(
        "--adam-dtype",
        action="append",
        default=[],
        metavar="DTYPE",
        help="add a dtype to float32/float64 (repeatable)",
    )
    group.addoption(
        "--adam-kind",
        default=None,
        metavar="{torch,optax,keras,plain}",
        help="force the adapter kind",
    )
    group.addoption(
        "--adam-timeout",
        default=None,
        metavar="SECONDS",
        help="deadline for each call of the target (default 60; env ADAMPROOFS_TIMEOUT)",
    )
    group.addoption(
        "--adam-memory-limit",
        default=None,
        metavar="MIB",
        help="address space the target's worker may add (env ADAMPROOFS_MEMORY_LIMIT)",
    )
    group.addoption(
        "--adam-in-process",
        action="store_true",
        default=False,
        help="run the target in the pytest process (no deadline)",
    )
    group.addoption(
        "--adam-without",
        action="append",
        default=[],
        metavar="FEATURE[,FEATURE...]",
        help="leave features out of the generated cases, as adamproofs check --without",
    )
    group.addoption(
        "--adam-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option for the target, as adamproofs check --option (repeatable)",
    )


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"--adam-{name}")
    if value is None:
        value = os.environ.get(_ENV[name]) or None
    return value


def _checker(config: pytest.Config) -> Checker:
    """The :class:`~.conformance.runner.Checker` the settings describe (not loaded yet)."""
    from .conformance._cli import parse_options
    from .conformance._runner import Checker, parse_isolation

    dtypes = list(dict.fromkeys(["float32", "float64", *config.getoption("--adam-dtype")]))
    return Checker(
        _setting(config, "target"),
        kind=config.getoption("--adam-kind"),
        dtypes=dtypes,
        variant=_setting(config, "variant"),
        profile=_setting(config, "profile") or "default",
        seed=_setting(config, "seed") or 0,
        options=parse_options(config.getoption("--adam-option")),
        without=[n for item in config.getoption("--adam-without") for n in item.split(",")],
        isolation=parse_isolation(
            _setting(config, "timeout"),
            _setting(config, "memory-limit"),
            config.getoption("--adam-in-process"),
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "adamproofs: an adamproofs conformance property")
    if not _setting(config, "target"):
        return  # inert
    from .conformance.protocol import TargetError, UsageError

    try:
        checker = _checker(config)
        config.stash[_CHECKER] = checker
        with contextlib.suppress(TargetError):  # reported by every item instead
            checker.implementation()  # options the target does not take: a usage error
    except UsageError as err:
        raise pytest.UsageError(f"adamproofs check: {err}") from None
    _collect_tests(config)


#: The module that holds the conformance test (collected when a target is given).
_TESTS = Path(__file__).with_name("pytest_conformance.py")


def _names_tests(arg: str) -> bool:
    path = Path(arg.split("::")[0])
    with contextlib.suppress(OSError):
        return path.resolve() == _TESTS.resolve()
    return False


def _collect_tests(config: pytest.Config) -> None:
    """Add the conformance test module to what pytest collects, unless an argument names
    it already (a pasted test ID selects exactly that test)."""
    if not any(_names_tests(str(arg)) for arg in config.args):
        config.args.append(str(_TESTS))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "adamproofs_row" not in metafunc.fixturenames:
        return
    checker = metafunc.config.stash.get(_CHECKER, None)
    rows: list[tuple[str | None, str]] = [] if checker is None else [(None, ""), *checker.rows]
    metafunc.parametrize(
        "adamproofs_row",
        rows,
        ids=["variant" if name is None else f"{name}-{dtype}" for name, dtype in rows],
    )


def run_row(config: pytest.Config, prop: str | None, dtype: str, test_id: str = "") -> None:
    """Judge one row (the fingerprint when ``prop`` is None); fail with the finding, a
    reproducer and the command that runs this test alone."""
    from .conformance.protocol import TargetError

    checker = config.stash.get(_CHECKER, None)
    if checker is None:
        pytest.skip("no target: pass --adam-target or set ADAMPROOFS_TARGET")
    try:
        checker.implementation()
    except TargetError as err:
        pytest.fail(f"cannot load target {checker.target!r}: {err}", pytrace=False)
    if prop is None:
        variant = checker.variant_result()
        if variant.verdict != "pass":
            pytest.fail(f"variant: {variant.note}", pytrace=False)
        return
    res = checker.run_row(prop, dtype)
    if res.verdict == "skip":
        pytest.skip(res.note)
    if res.verdict != "pass":
        msg = res.finding.message if res.finding is not None else res.note
        code = res.reproducer
        rerun = f"rerun it alone: pytest --adam-target={checker.target} '{_TESTS}::{test_id}'"
        text = msg + ("\n\nreproducer:\n" + code if code else "")
        pytest.fail(text + (f"\n\n{rerun}" if test_id else ""), pytrace=False)
