"""Driving an implementation through a case: θ after every step, failures recorded.

Every array handed to the implementation (the initial values given to ``create``,
each step's gradients, the arrays inside a checkpoint blob given to ``restore``) is
recorded with a copy of its bytes when it is handed over (:class:`InputLedger`).
After every later call and at the end of the case the recorded arrays are compared
byte for byte with their copies, so a write made one step later (the implementation
kept a reference to step k's gradient and writes into it at step k+1) is caught,
and −0.0 written over +0.0 counts as a write.

A failure of the implementation, of any exception class (``SystemExit`` included),
is reported in :attr:`Run.error` as ``"<stage>: <cause>"``, the stage being
``construct``, ``step k``, ``params() after step k``, ``checkpoint save`` or
``checkpoint restore`` (:class:`TargetFailure`). An implementation run in a worker
process (:mod:`.isolation`) is driven there; this module is the in-process half.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..dtypes import as_dtype
from ._model import Case, Run
from .protocol import Hyper, InputMutated

T = TypeVar("T")

#: Whether a ``KeyboardInterrupt`` can only come from the implementation (true in a worker
#: process, which ignores SIGINT); in-process it is the user's Ctrl-C and is never caught.
INTERRUPTS_ARE_THE_TARGETS = False


class TargetFailure(Exception):
    """The implementation failed in ``stage`` (``construct``, ``step 3``, ...) for ``cause``."""

    def __init__(self, stage: str, cause: str) -> None:
        super().__init__(f"{stage}: {cause}")
        self.stage = stage
        self.cause = cause


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values of equal shape and dtype (NaN equal to NaN, −0.0 equal to +0.0)."""
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and bool(
            np.all((a == b) | (np.isnan(a.astype(np.float64)) & np.isnan(b.astype(np.float64))))
        )
    )


def describe_exception(err: BaseException) -> str:
    """``raised Type: message`` and the last frames of its traceback."""
    tb = traceback.format_exception(type(err), err, err.__traceback__)
    frames = "".join(tb[-6:-1]).rstrip()
    head = f"raised {type(err).__name__}: {err}" if str(err) else f"raised {type(err).__name__}"
    return head + ("\n" + frames if frames else "")


def call_target(stage: str, fn: Callable[[], T]) -> T:
    """``fn()``; anything it raises becomes a :class:`TargetFailure` of ``stage``
    (a ``KeyboardInterrupt`` only in a worker process, see :data:`INTERRUPTS_ARE_THE_TARGETS`)."""
    try:
        with warnings.catch_warnings():  # NaN/inf warnings of the implementation's own
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn()
    except (TargetFailure, InputMutated):
        raise  # already the checker's account of a guarded call
    except KeyboardInterrupt as err:
        if not INTERRUPTS_ARE_THE_TARGETS:
            raise
        raise TargetFailure(stage, describe_exception(err)) from err
    except BaseException as err:  # SystemExit etc.: the target's failures
        raise TargetFailure(stage, describe_exception(err)) from err


#: After step k the ledger compares the arrays handed at steps k-3..k (and the initial
#: values and checkpoints); every FULL_CHECK_EVERY steps, and at the end of a case, all.
RECENT_STEPS = 4
FULL_CHECK_EVERY = 16

_Entry = tuple[str, np.ndarray, tuple[int, ...], np.dtype, bytes]


class InputLedger:
    """The arrays handed to an implementation, each with a copy of its bytes."""

    def __init__(self) -> None:
        self._always: list[_Entry] = []  # initial values, checkpoints
        self._steps: list[tuple[int, _Entry]] = []  # gradients, in the order of the steps

    def hand(self, label: str, array: np.ndarray, *, step: int | None = None) -> None:
        """Record ``array`` (called just before handing it over; ``step`` for gradients)."""
        entry = (label, array, array.shape, array.dtype, array.tobytes())
        if step is None:
            self._always.append(entry)
        else:
            self._steps.append((step, entry))

    def hand_tree(self, label: str, obj: Any) -> None:
        """Record every NumPy array inside nested dicts, lists and tuples."""
        if isinstance(obj, np.ndarray):
            self.hand(label, obj)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                self.hand_tree(f"{label}[{key!r}]", value)
        elif isinstance(obj, (list, tuple)):
            for i, value in enumerate(obj):
                self.hand_tree(f"{label}[{i}]", value)

    def first_change(self, since_step: int | None = None) -> str | None:
        """What changed in the first recorded array whose bytes differ, or None; with
        ``since_step`` only the gradients handed at that step or later are compared."""
        entries = self._always + [
            e for step, e in self._steps if since_step is None or step >= since_step
        ]
        for label, array, shape, dtype, data in entries:
            if array.shape != shape or array.dtype != dtype:
                return (
                    f"{label} was reshaped or retyped in place (shape {shape} -> "
                    f"{array.shape}, dtype {dtype} -> {array.dtype})"
                )
            if array.tobytes() != data:
                return f"{label} was written: {_first_difference(array, data)}"
        return None

    def check(self, when: str, since_step: int | None = None) -> None:
        """Raise :class:`InputMutated` when a recorded array changed (found ``when``)."""
        change = self.first_change(since_step)
        if change is not None:
            raise InputMutated(f"{change} (found {when})")


def _first_difference(array: np.ndarray, data: bytes) -> str:
    """The first element whose bits differ, as ``index i: old -> new``."""
    unsigned = np.dtype(f"u{array.dtype.itemsize}")
    old = np.frombuffer(data, dtype=array.dtype).reshape(array.shape)
    new = np.ascontiguousarray(array)
    differs = (old.view(unsigned) != new.view(unsigned)).ravel()
    flat = int(np.argmax(differs))
    index = np.unravel_index(flat, array.shape) if array.shape else ()
    before, after = old.ravel()[flat].item(), new.ravel()[flat].item()
    return f"element {tuple(int(i) for i in index)} changed from {before!r} to {after!r}"


class GuardedSession:
    """A session with every call guarded: failures become :class:`TargetFailure` naming
    the stage, inputs are recorded in an :class:`InputLedger` and checked after every
    call, and ``params()`` is checked for length, shape and dtype.

    Implements :class:`~.protocol.Session` (``step``, ``params``, ``save``, ``restore``).
    """

    def __init__(
        self,
        session: Any,
        shapes: Sequence[tuple[int, ...]],
        dtype: np.dtype,
        ledger: InputLedger | None = None,
        steps_done: int = 0,
    ) -> None:
        self.session = session
        self.shapes = list(shapes)
        self.dtype = dtype
        self.ledger = ledger if ledger is not None else InputLedger()
        self.steps_done = steps_done

    @classmethod
    def create(
        cls,
        impl: Any,
        hyper: Hyper,
        params: Sequence[np.ndarray],
        groups: Sequence[tuple[Hyper, int]] | None,
        dtype: Any,
    ) -> GuardedSession:
        """``impl.create`` (or ``create_groups`` when ``groups`` is given) on copies of
        ``params``, recorded in the ledger."""
        dt = dtype if isinstance(dtype, np.dtype) else as_dtype(dtype)  # no ml_dtypes import
        ledger = InputLedger()
        given = [np.array(p, dtype=dt, copy=True) for p in params]
        for i, p in enumerate(given):
            ledger.hand(f"the initial value of params[{i}] given to create()", p)
        if groups:
            split, k = [], 0
            for hyper_g, count in groups:
                split.append((hyper_g, given[k : k + count]))
                k += count
            session = call_target("construct", lambda: impl.create_groups(split, dt))
        else:
            session = call_target("construct", lambda: impl.create(hyper, list(given), dt))
        guarded = cls(session, [p.shape for p in given], dt, ledger)
        guarded.ledger.check("after create()")
        return guarded

    def step(
        self, grads: Sequence[np.ndarray | None], number: int | None = None
    ) -> list[np.ndarray]:
        """One step on copies of ``grads`` (recorded); θ after it, checked."""
        k = self.steps_done + 1 if number is None else number
        given = [None if g is None else np.array(g, copy=True) for g in grads]
        for i, g in enumerate(given):
            if g is not None:
                self.ledger.hand(f"the gradient of params[{i}] given at step {k}", g, step=k)
        call_target(f"step {k}", lambda: self.session.step(list(given)))
        self.steps_done = k
        full = k % FULL_CHECK_EVERY == 0
        self.ledger.check(f"after step {k}", None if full else k - RECENT_STEPS + 1)
        return self.params(f"params() after step {k}", since_step=k + 1)

    def params(self, stage: str | None = None, since_step: int | None = None) -> list[np.ndarray]:
        """Copies of the parameters, checked for count, shape and dtype (and the ledger,
        for the gradients handed at ``since_step`` or later)."""
        stage = stage or f"params() after step {self.steps_done}"
        values = call_target(stage, lambda: self.session.params())
        try:
            checked = checked_params(values, self.shapes, self.dtype)
        except (TypeError, ValueError) as err:
            raise TargetFailure(stage, str(err)) from err
        self.ledger.check(f"after {stage}", since_step)
        return checked

    def moments(self) -> list[Any] | None:
        """The session's optional ``moments()`` (m and v per parameter), None without it."""
        reader = getattr(self.session, "moments", None)
        if reader is None:
            return None
        return call_target(f"moments() after step {self.steps_done}", reader)  # type: ignore[no-any-return]

    def save(self) -> Any:
        blob = call_target("checkpoint save", lambda: self.session.save())
        self.ledger.check("after checkpoint save")
        return blob

    def restore(self, blob: Any) -> None:
        self.ledger.hand_tree("the checkpoint given to restore()", blob)
        call_target("checkpoint restore", lambda: self.session.restore(blob))
        self.ledger.check("after checkpoint restore")


def checked_params(
    values: Any, shapes: Sequence[tuple[int, ...]], dtype: np.dtype
) -> list[np.ndarray]:
    """Copies of ``values`` (what ``params()`` returned) as arrays; ``ValueError`` or
    ``TypeError`` naming the problem when they are not ``len(shapes)`` arrays of those
    shapes and ``dtype``."""
    if values is None or isinstance(values, (str, bytes)):
        raise TypeError(
            f"params() returned {type(values).__name__}; expected a list of "
            f"{len(shapes)} NumPy arrays"
        )
    try:
        values = list(values)
    except TypeError as err:
        raise TypeError(
            f"params() returned {type(values).__name__}, which is not a list of arrays ({err})"
        ) from err
    if len(values) != len(shapes):
        raise ValueError(f"params() returned {len(values)} arrays for {len(shapes)} parameters")
    out = []
    for i, (v, shape) in enumerate(zip(values, shapes, strict=True)):
        if not isinstance(v, np.ndarray) and not hasattr(v, "__array__"):
            raise TypeError(
                f"params()[{i}] is a {type(v).__name__}; expected an array of "
                f"shape {shape} and dtype {dtype}"
            )
        arr = np.asarray(v)
        if arr.shape != shape:
            raise ValueError(f"params()[{i}] has shape {arr.shape}; expected {shape}")
        if arr.dtype != dtype:
            raise ValueError(
                f"params()[{i}] has dtype {arr.dtype}; expected {dtype} "
                "(the implementation changed the parameter's dtype)"
            )
        out.append(np.array(arr, copy=True))
    return out


def gradients_of(case: Case, k: int, theta: list[np.ndarray]) -> list[np.ndarray | None]:
    """The gradients of step ``k+1`` (from ``case.grad_fn`` on copies of ``theta`` when
    the case computes them from the implementation's θ), in the case's dtype."""
    dtype = as_dtype(case.dtype)
    g = (
        case.grad_fn([p.copy() for p in theta], k + 1)
        if case.grad_fn is not None
        else case.grads[k]
    )
    return [None if x is None else np.asarray(x, dtype=dtype) for x in g]


def drive(
    impl: Any, case: Case, *, session: Any = None, start: int = 0, stop: int | None = None
) -> Run:
    """Run ``impl`` on ``case`` (steps ``start+1 .. stop``, on ``session`` when given);
    record θ before the first and after every step. Never raises for the
    implementation's own failures: they are stored in :attr:`Run.error` (``"stage:
    cause"``) or :attr:`Run.mutated`, with :attr:`Run.error_step`."""
    from ._isolation import IsolatedImplementation

    if isinstance(impl, IsolatedImplementation):
        return impl.drive(case, session=session, start=start, stop=stop)
    run = Run(thetas=[], grads=[])
    step_no = start
    guarded: GuardedSession | None = None
    try:
        if isinstance(session, GuardedSession):
            guarded = session
        elif session is not None:
            guarded = GuardedSession(
                session, [p.shape for p in case.params], as_dtype(case.dtype), steps_done=start
            )
        else:
            guarded = GuardedSession.create(impl, case.hyper, case.params, case.groups, case.dtype)
        run.thetas.append(guarded.params(f"params() before step {start + 1}"))
        end = case.n_steps if stop is None else stop
        for k in range(start, end):
            step_no = k + 1
            g = gradients_of(case, k, run.thetas[-1])
            run.thetas.append(guarded.step(g, k + 1))
            run.grads.append(g)
        guarded.ledger.check("at the end of the case")
    except InputMutated as err:
        run.mutated = str(err)
        run.error_step = step_no
    except TargetFailure as err:
        run.error = str(err)
        run.error_step = step_no
    run.session = guarded  # type: ignore[assignment]  # a Session with its inputs guarded
    return run
