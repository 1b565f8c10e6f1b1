"""Isolation of the target in a worker process, and the exact input checks of drive()."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from adamproofs.conformance._drive import GuardedSession, InputLedger, drive
from adamproofs.conformance._isolation import (
    InProcessImplementation,
    IsolatedImplementation,
    Isolation,
    isolate,
)
from adamproofs.conformance._model import Case
from adamproofs.conformance.protocol import Hyper, PlainImplementation, TargetError
from tests.conformance.hostile import mutation
from tests.conformance.hostile.base import Adam

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "tests.conformance.hostile"
FAST = Isolation(timeout=5.0, restarts=1)


def _case(steps: int = 4, dtype: str = "float32") -> Case:
    dt = np.dtype(dtype)
    rng = np.random.default_rng(steps)
    params = [rng.uniform(-1, 1, 3).astype(dt), np.array(0.5, dtype=dt), np.zeros((2, 2), dtype=dt)]
    grads = [[rng.uniform(-1, 1, p.shape).astype(dt) for p in params] for _ in range(steps)]
    return Case(dtype, Hyper(lr=0.01, weight_decay=0.1), params, grads)


def _same(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> bool:
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.tobytes() == y.tobytes()
        for ra, rb in zip(a, b, strict=True)
        for x, y in zip(ra, rb, strict=True)
    )


@pytest.fixture(scope="module")
def numpy_worker():
    with isolate("numpy", isolation=Isolation(restarts=1)) as impl:  # loads ml_dtypes: no 5 s
        yield impl


# -- the ledger ----------------------------------------------------------------------------


def test_ledger_counts_negative_zero_over_positive_zero_as_a_write() -> None:
    ledger = InputLedger()
    g = np.array([0.0, 1.0], dtype=np.float32)
    ledger.hand("g", g)
    assert ledger.first_change() is None
    g[0] = -0.0
    assert g[0] == 0.0  # equal values: only the bits tell
    assert ledger.first_change() == "g was written: element (0,) changed from 0.0 to -0.0"


def test_ledger_sees_a_nan_payload_change_and_an_in_place_reshape() -> None:
    ledger = InputLedger()
    g = np.array([np.nan, 2.0])
    ledger.hand("g", g)
    g.view(np.uint64)[0] ^= 1  # another NaN
    assert "g was written: element (0,)" in (ledger.first_change() or "")
    ledger = InputLedger()
    h = np.zeros(4)
    ledger.hand("h", h)
    h.shape = (2, 2)
    assert "reshaped or retyped in place" in (ledger.first_change() or "")


def test_ledger_walks_checkpoint_trees() -> None:
    ledger = InputLedger()
    blob = {"state": {"m": [np.zeros(2)]}, "t": 3}
    ledger.hand_tree("blob", blob)
    blob["state"]["m"][0][1] = 1.0
    assert (ledger.first_change() or "").startswith("blob['state']['m'][0] was written")


# -- drive() in-process: deferred writes and -0.0 are caught -------------------------------


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (mutation.DeferredGradientWrite, "the gradient of params[0] given at step 1 was written"),
        (mutation.WritesGradient, "the gradient of params[0] given at step 1 was written"),
    ],
)
def test_in_process_drive_catches_writes_into_gradients(factory, expected) -> None:
    run = drive(PlainImplementation(factory), _case())
    assert run.mutated is not None and run.mutated.startswith(expected), run.mutated
    later = (
        "found after step 2" if factory is mutation.DeferredGradientWrite else "found after step 1"
    )
    assert later in run.mutated


def test_in_process_drive_catches_negative_zero_written_over_a_zero_gradient() -> None:
    case = _case()
    case.grads[1][0][1] = 0.0
    run = drive(PlainImplementation(mutation.NegativeZero), case)
    assert run.mutated == (
        "the gradient of params[0] given at step 2 was written: element "
        "(1,) changed from 0.0 to -0.0 (found after step 2)"
    )


def test_in_process_drive_reports_system_exit_as_a_failure_of_the_step() -> None:
    from tests.conformance.hostile import step

    run = drive(PlainImplementation(step.SysExit0), _case())
    assert run.error is not None and run.error.startswith("step 1: raised SystemExit: 0")
    assert run.error_step == 1


def test_in_process_keyboard_interrupt_is_the_users_and_propagates() -> None:
    from tests.conformance.hostile import step

    with pytest.raises(KeyboardInterrupt):
        drive(PlainImplementation(step.RaiseKeyboardInterrupt), _case())


# -- the worker ----------------------------------------------------------------------------


def test_isolated_run_is_bit_identical_to_the_in_process_run(numpy_worker) -> None:
    from adamproofs.conformance._targets import load_target

    assert isinstance(numpy_worker, IsolatedImplementation)
    assert numpy_worker.features == load_target("numpy").features
    for dtype in ("float32", "float64"):
        case = _case(6, dtype)
        isolated, local = drive(numpy_worker, case), drive(load_target("numpy"), case)
        assert isolated.error is None and isolated.mutated is None
        assert _same(isolated.thetas, local.thetas)
        assert _same(isolated.grads, local.grads)


def test_gradients_from_the_implementations_theta_take_one_request_per_step(numpy_worker):
    case = _case(5)
    case.grad_fn = lambda theta, t: [2.0 * p for p in theta]
    case.steps = 5
    run = drive(numpy_worker, case)
    assert run.error is None and len(run.thetas) == 6
    for k, row in enumerate(run.grads):
        assert _same([row], [[2.0 * p for p in run.thetas[k]]])


def test_checkpoint_through_the_worker_continues_the_run(numpy_worker) -> None:
    case = _case(6)
    full = drive(numpy_worker, case)
    first = drive(numpy_worker, case, stop=3)
    blob = first.session.save()
    fresh = numpy_worker.create(
        case.hyper, [np.zeros_like(p) for p in case.params], np.dtype("float32")
    )
    fresh.restore(blob)
    second = drive(numpy_worker, case, session=fresh, start=3)
    assert second.error is None
    assert _same(second.thetas, full.thetas[3:])


def test_a_worker_that_died_is_restarted_for_the_next_case() -> None:
    with isolate(f"{HOSTILE}.step:OsExit0AtStep3", isolation=Isolation(restarts=2)) as impl:
        assert drive(impl, _case(2)).error is None
        died = drive(impl, _case(4))
        assert (
            died.error == "step 3: the worker process exited with status 0 (the target ended "
            "it, e.g. with os._exit)"
        )
        assert died.error_step == 3 and len(died.thetas) == 3  # θ0, θ1, θ2 came back
        assert drive(impl, _case(2)).error is None  # a new worker
        drive(impl, _case(4))
        drive(impl, _case(4))
        gone = drive(impl, _case(2))
        assert gone.error is not None and gone.error.startswith(
            "construct: not run: the worker process ended 3 times in this check"
        )


def test_a_session_of_an_ended_worker_says_its_state_is_lost() -> None:
    with isolate(f"{HOSTILE}.step:OsExit0AtStep3", isolation=FAST) as impl:
        run = drive(impl, _case(2))
        drive(impl, _case(4))
        again = drive(impl, _case(4), session=run.session, start=2)
        assert again.error is not None and "its state is lost" in again.error


def test_memory_past_the_limit_is_a_failure_of_the_step() -> None:
    isolation = Isolation(timeout=30.0, memory_limit=256 * 2**20)
    with isolate(f"{HOSTILE}.step:MemoryHog", isolation=isolation) as impl:
        run = drive(impl, _case(1))
    assert run.error is not None and run.error.startswith("step 1: raised MemoryError")
    assert "memory limit: 256 MiB" in run.error


def test_import_failures_are_target_errors_naming_the_stage() -> None:
    with pytest.raises(
        TargetError,
        match=r"^import: the worker process was killed by signal "
        r"11 \(SIGSEGV",
    ):
        isolate(f"{HOSTILE}.import_segfault:Adam", isolation=FAST)
    with pytest.raises(TargetError, match=r"^import: module .* has no attribute 'Nope'"):
        isolate(f"{HOSTILE}.base:Nope", isolation=FAST)


def test_an_importable_class_is_sent_by_reference() -> None:
    with isolate(Adam, isolation=FAST) as impl:
        assert isinstance(impl, IsolatedImplementation)
        assert drive(impl, _case()).error is None


def test_a_class_defined_in_a_function_runs_in_process_with_a_note() -> None:
    class Local(Adam):
        pass

    impl = isolate(Local, isolation=FAST)
    assert isinstance(impl, InProcessImplementation)
    assert "defined inside a function" in impl.isolation
    run = drive(impl, _case())
    assert run.error is None and isinstance(run.session, GuardedSession)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeout", 0, "timeout=0 must be a positive number of seconds"),
        ("memory_limit", -1, "memory_limit=-1 must be a positive number of bytes or None"),
        ("restarts", 1.5, "restarts=1.5 must be an int >= 0"),
    ],
)
def test_bad_isolation_settings_are_named(field, value, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Isolation(**{field: value})


def test_ctrl_c_stops_the_check_and_ends_the_worker(tmp_path: Path) -> None:
    """The caller and its worker get SIGINT (as from a terminal): the worker ignores it,
    the caller stops with KeyboardInterrupt and kills the worker on the way out."""
    busy = tmp_path / "busy"
    script = textwrap.dedent(f"""
        import sys
        from adamproofs.conformance._drive import drive
        from adamproofs.conformance._isolation import Isolation, isolate
        from tests.conformance.test_isolation import _case
        impl = isolate("{HOSTILE}.step:AnnouncedLoop", isolation=Isolation(timeout=600))
        print(impl._worker.process.pid, flush=True)
        drive(impl, _case())
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ADAMPROOFS_TEST_BUSY_FILE": str(busy)},
    )
    assert proc.stdout is not None
    worker_pid = int(proc.stdout.readline())
    for _ in range(2400):  # bounded: the worker is inside the looping step, the caller waits
        if busy.exists():
            break
        time.sleep(0.05)
    assert busy.exists(), "the worker never started its step"
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"the caller did not stop within 120 s of SIGINT; its stderr:\n{err}")
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)


class _WritesFirstGradientLate(Adam):
    """Keeps step 1's gradient and writes into it at step 10."""

    def step(self, grads):
        super().step(grads)
        if self.t[0] == 1:
            self.first = grads[0]
        if self.t[0] == 10:
            self.first[0] += 1


@pytest.mark.parametrize(
    ("steps", "found"), [(12, "at the end of the case"), (20, "after step 16")]
)
def test_a_write_many_steps_later_is_found_by_the_full_comparison(steps, found) -> None:
    run = drive(PlainImplementation(_WritesFirstGradientLate), _case(steps))
    assert run.mutated is not None
    assert run.mutated.startswith("the gradient of params[0] given at step 1 was written")
    assert run.mutated.endswith(f"(found {found})")
