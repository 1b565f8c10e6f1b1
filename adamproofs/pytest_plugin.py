"""pytest plugin: run the conformance properties inside your own test session.

Registered through the ``pytest11`` entry point, so it is loaded by every pytest
run where adamproofs is installed, and it stays *inert* (it adds command-line
options and nothing else, and imports no framework and not even NumPy) unless a
target is given::

    pytest --adam-target=mypkg.optim:MyAdam [--adam-variant=paper]
           [--adam-profile=quick|default|thorough] [--adam-seed=0]
           [--adam-dtype=float16 ...] [--adam-kind=torch|optax|keras|plain]

or the environment variable ``ADAMPROOFS_TARGET`` (and ``ADAMPROOFS_VARIANT``,
``ADAMPROOFS_PROFILE``, ``ADAMPROOFS_SEED``). Then one test item per property and
dtype (plus one for the variant fingerprint) is added to the session, marked
``adamproofs``, so ``-m adamproofs`` selects only them. A failing item shows the
finding and a copy-pasteable reproducer.

From your own test file, without the plugin options::

    from adamproofs.conformance import assert_conforms

    def test_my_adam_conforms():
        assert_conforms("mypkg.optim:MyAdam", variant="paper", profile="quick")

(``adamproofs.conformance.check(...)`` returns the report itself; ``.conforms`` is the
answer and ``.table()`` the summary.)
"""

from __future__ import annotations

import os
from typing import Any

import pytest

_ENV = {"target": "ADAMPROOFS_TARGET", "variant": "ADAMPROOFS_VARIANT",
        "profile": "ADAMPROOFS_PROFILE", "seed": "ADAMPROOFS_SEED"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adamproofs", "Adam conformance (adamproofs)")
    group.addoption("--adam-target", default=None, metavar="TARGET",
                    help="check this Adam (built-in name or module.path:attr); "
                         "env ADAMPROOFS_TARGET")
    group.addoption("--adam-variant", default=None, metavar="NAME",
                    help="require a variant (e.g. paper); env ADAMPROOFS_VARIANT")
    group.addoption("--adam-profile", default=None, choices=("quick", "default", "thorough"),
                    help="examples per property (default: default); env ADAMPROOFS_PROFILE")
    group.addoption("--adam-seed", default=None, type=int, help="hypothesis seed (default 0)")
    group.addoption("--adam-dtype", action="append", default=[], metavar="DTYPE",
                    help="add a dtype to float32/float64 (repeatable)")
    group.addoption("--adam-kind", default=None, choices=("torch", "optax", "keras", "plain"),
                    help="force the adapter kind")


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"--adam-{name}")
    if value is None:
        value = os.environ.get(_ENV[name]) or None
    return value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "adamproofs: an adamproofs conformance property")


class _State:
    """The loaded implementation and the variant, computed once per session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.impl: Any = None
        self.variant: Any = None
        self.error: str | None = None
        self.fingerprint: Any = None
        self.variant_verdict: tuple[str, str] | None = None

    def load(self) -> None:
        if self.impl is not None or self.error is not None:
            return
        from .conformance.fingerprint import fingerprint
        from .conformance.protocol import TargetError
        from .conformance.runner import _variant_verdict
        from .conformance.targets import load_target
        from .variants import parse_variant

        target = _setting(self.config, "target")
        try:
            self.impl = load_target(target, kind=self.config.getoption("--adam-kind"))
        except TargetError as err:
            self.error = f"cannot load target {target!r}: {err}"
            return
        spec = _setting(self.config, "variant")
        required = parse_variant(spec)[0] if spec else None
        self.fingerprint = fingerprint(self.impl, prefer=required)
        self.variant_verdict = _variant_verdict(self.fingerprint, required,
                                                getattr(self.impl, "claims", {}) or {})
        self.variant = required if required is not None else self.fingerprint.variant


class AdamItem(pytest.Item):
    """One property in one dtype (or the variant fingerprint when ``prop`` is None)."""

    def __init__(self, *, prop: str | None, dtype: str, state: _State, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prop = prop
        self.dtype = dtype
        self.state = state
        self.add_marker("adamproofs")

    def runtest(self) -> None:
        st = self.state
        st.load()
        if st.error is not None:
            raise AdamConformanceError(st.error)
        if self.prop is None:
            verdict, note = st.variant_verdict
            if verdict != "pass":
                raise AdamConformanceError(f"variant: {note}")
            return
        from .conformance.properties import PROPERTIES
        from .conformance.report import Report, reproducer
        from .conformance.runner import PROFILES, SHRINK_SECONDS, run_property

        profile = _setting(self.config, "profile") or "default"
        seed = int(_setting(self.config, "seed") or 0)
        examples, long_steps = PROFILES[profile]
        res = run_property(PROPERTIES[self.prop], st.impl, st.variant, self.dtype,
                           examples=examples, long_steps=long_steps, seed=seed,
                           shrink_seconds=SHRINK_SECONDS[profile])
        if res.verdict == "skip":
            pytest.skip(res.note)
        if res.verdict != "pass":
            target = _setting(self.config, "target")
            rep = Report(target=str(target), kind=self.config.getoption("--adam-kind"),
                         profile=profile, seed=seed, dtypes=[self.dtype],
                         required_variant=_setting(self.config, "variant"))
            code = reproducer(rep, res, st.variant, rep.kind, None)
            msg = res.finding.message if res.finding is not None else res.note
            raise AdamConformanceError(msg + ("\n\nreproducer:\n" + code if code else ""))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, AdamConformanceError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[str, int, str]:
        return "adamproofs", 0, f"adamproofs: {self.name}"


class AdamConformanceError(AssertionError):
    """A conformance property failed (the message has the finding and a reproducer)."""


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection sees the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not _setting(config, "target"):
        return  # inert
    from .conformance.properties import PROPERTIES

    state = _State(config)
    dtypes = list(dict.fromkeys(["float32", "float64", *config.getoption("--adam-dtype")]))
    new: list[pytest.Item] = [AdamItem.from_parent(session, name="adamproofs[variant]",
                                                   prop=None, dtype="", state=state)]
    for dtype in dtypes:
        for name in PROPERTIES:
            new.append(AdamItem.from_parent(session, name=f"adamproofs[{name}-{dtype}]",
                                            prop=name, dtype=dtype, state=state))
    items.extend(new)
