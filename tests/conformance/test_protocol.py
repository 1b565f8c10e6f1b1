"""The adapter protocol, the plain adapter and target loading."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from adamproofs.conformance._targets import detect_kind, load_target
from adamproofs.conformance.adapters import adapter
from adamproofs.conformance.protocol import (
    FrameworkMissing,
    Hyper,
    Implementation,
    PlainImplementation,
    TargetError,
    supports,
)
from tests.conformance import mutants


def test_hyper_validates_and_converts():
    h = Hyper(lr=1, beta1=0.5)
    assert isinstance(h.lr, float) and h.lr == 1.0
    with pytest.raises(TypeError, match=r"Hyper\.eps='x'"):
        Hyper(eps="x")
    with pytest.raises(TypeError, match="maximize"):
        Hyper(maximize=1)
    assert h.replace(lr=0.5).lr == 0.5 and h.replace(lr=0.5).beta1 == 0.5
    assert set(h.as_dict()) == {"lr", "beta1", "beta2", "eps", "weight_decay"}


def test_plain_implementation_updates_copies_only():
    impl = PlainImplementation(mutants.NUMPY_CORRECT)
    assert isinstance(impl, Implementation)
    assert supports(impl, "checkpoint") and supports(impl, "float32")
    assert not supports(impl, "groups")
    p0 = np.array([1.0, 2.0], dtype=np.float32)
    session = impl.create(Hyper(lr=0.1), [p0], np.dtype(np.float32))
    session.step([np.array([1.0, -1.0], dtype=np.float32)])
    assert p0.tolist() == [1.0, 2.0]  # the caller's array is not the session's
    assert session.params()[0].tolist() == pytest.approx([0.9, 2.1])


def test_plain_protocol_rejects_non_callable():
    with pytest.raises(TargetError, match="not callable"):
        PlainImplementation(42)


def test_load_builtin_and_module_targets():
    assert load_target("numpy").name == "numpy"
    impl = load_target("tests.conformance.mutants:NUMPY_CORRECT")
    assert impl.name == "tests.conformance.mutants:NUMPY_CORRECT"
    assert detect_kind(mutants.NUMPY_CORRECT) == "plain"


@pytest.mark.parametrize(
    "target, message",
    [
        ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
        ("tests.conformance.mutants:NoSuchAttr", "has no attribute 'NoSuchAttr'"),
        ("notatarget", "neither a built-in"),
    ],
)
def test_bad_targets_raise_target_error(target, message):
    with pytest.raises(TargetError, match=message):
        load_target(target)


def test_unknown_kind_is_a_target_error():
    with pytest.raises(TargetError, match="--kind='jax'"):
        load_target("tests.conformance.mutants:NUMPY_CORRECT", kind="jax")
    with pytest.raises(TargetError, match="is not one of"):
        adapter("nope")


def test_detect_kind_needs_a_recognisable_object():
    with pytest.raises(TargetError, match="cannot tell what kind"):
        detect_kind(object())


def test_torch_subclass_detected_as_torch():
    pytest.importorskip("torch")
    assert detect_kind(mutants.TORCH_CORRECT) == "torch"
    impl = load_target(mutants.TORCH_CORRECT)
    assert supports(impl, "groups") and supports(impl, "maximize")


def test_the_documented_ten_line_adam_conforms():
    """The plain-protocol example in the protocol docstring is real, working code."""
    from adamproofs.conformance import check, protocol

    doc = protocol.__doc__
    start = doc.index("    import numpy as np\n\n    class MyAdam:")
    stop = doc.index("        # optional, enables the checkpoint")
    code = "\n".join(line[4:] for line in doc[start:stop].splitlines())
    namespace: dict = {}
    exec(compile(code, "protocol-docstring", "exec"), namespace)
    report = check(
        namespace["MyAdam"],
        variant="paper",
        profile="quick",
        properties=["first_step", "agreement"],
        dtypes=["float32"],
        progress=None,
    )
    assert report.conforms, report.table()


def test_declared_features_are_validated():
    class Declares(mutants.NumpyAdam):
        adamproofs_features = frozenset({"float64"})

    assert PlainImplementation(Declares).features == frozenset({"float64"})

    class Bad(mutants.NumpyAdam):
        adamproofs_features = frozenset({"float64", "teleport"})

    with pytest.raises(TargetError, match="teleport"):
        PlainImplementation(Bad)


@pytest.mark.parametrize(
    ("kind", "blocked", "needs", "install"),
    [
        ("torch", "torch", "PyTorch", "pip install torch"),
        ("optax", "optax", "jax and optax", "pip install jax optax"),
        ("keras", "keras", "Keras 3 and a backend", "pip install keras jax (or torch)"),
        ("mlx", "mlx.core", "MLX", "pip install 'mlx[cpu]'"),
        ("tinygrad", "tinygrad", "tinygrad", "pip install tinygrad"),
        ("tensorflow", "tensorflow", "TensorFlow", "pip install tensorflow tf_keras"),
    ],
)
def test_a_missing_framework_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, kind: str, blocked: str, needs: str, install: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # `import blocked` raises ImportError
    with pytest.raises(FrameworkMissing) as caught:
        adapter(kind).make_implementation()
    message = str(caught.value)
    assert message.startswith(f"the {kind} adapter needs {needs} (")
    assert install in message
