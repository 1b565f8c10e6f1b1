"""Run the implementation under test in a worker process: :func:`isolate`.

The target is loaded and run in a child process (:mod:`.worker`, started with
``subprocess``, never forked); the oracle and the judging stay in the caller's
process. :func:`isolate` returns an :class:`IsolatedImplementation`, which satisfies
:class:`~.protocol.Implementation`: its sessions forward ``step``, ``params``,
``save`` and ``restore`` to the worker. :func:`.drive.drive` sends a whole case in
one request (all steps run in the worker, θ streamed back one row per step); only a
case whose gradients come from the implementation's own θ takes a round trip per step.

Every abnormal end of the target is a :class:`~.drive.TargetFailure` naming the
stage (``import``, ``construct``, ``step k``, ``params() after step k``,
``checkpoint save``, ``checkpoint restore``) and the cause: an exception of any class
(``SystemExit`` from ``sys.exit`` included), the worker's exit (``os._exit``), a
signal (a segmentation fault, an abort), a call that does not return within
:attr:`Isolation.timeout` seconds (the worker is killed), an allocation past
:attr:`Isolation.memory_limit`. A dead worker is restarted for the next call, at most
:attr:`Isolation.restarts` times per check; after that, every call fails at once
naming the earlier ends, so a target that hangs or crashes on every case costs a
bounded time. Ctrl-C in the caller kills the worker and propagates.

A target given as an object (not a string) is sent to the worker pickled, which works
for classes and functions importable by module and name; one defined in ``__main__``,
inside a function, or that cannot be pickled runs in the caller's process
(:class:`InProcessImplementation`, whose :attr:`isolation` says why).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from ..dtypes import as_dtype
from ._drive import GuardedSession, TargetFailure, gradients_of
from ._model import Case, Run
from ._targets import load_target
from .protocol import Hyper, InputMutated, TargetError, UsageError

#: Seconds the worker may take to start (its own imports, not the target's).
STARTUP_SECONDS = 120.0


@dataclass(frozen=True)
class Isolation:
    """How the target is isolated.

    ``timeout``: seconds one call of the target may take (import, construction, one
    step, one ``params()``, a checkpoint save or restore). ``memory_limit``: bytes of
    address space the worker may add after loading the target (``None``: no limit;
    POSIX only). ``restarts``: how many times the worker is restarted after it died or
    was killed, per check.
    """

    timeout: float = 60.0
    memory_limit: int | None = None
    restarts: int = 3

    def __post_init__(self) -> None:
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not self.timeout > 0
        ):
            raise ValueError(f"timeout={self.timeout!r} must be a positive number of seconds")
        if self.memory_limit is not None and (
            isinstance(self.memory_limit, bool)
            or not isinstance(self.memory_limit, int)
            or self.memory_limit <= 0
        ):
            raise ValueError(
                f"memory_limit={self.memory_limit!r} must be a positive number of bytes or None"
            )
        if (
            isinstance(self.restarts, bool)
            or not isinstance(self.restarts, int)
            or self.restarts < 0
        ):
            raise ValueError(f"restarts={self.restarts!r} must be an int >= 0")


#: The isolation :func:`~.runner.check` uses unless told otherwise.
DEFAULT_ISOLATION = Isolation()


class _WorkerEnded(Exception):
    """The worker died or was killed; the message says how."""


def _exit_cause(code: int | None) -> str:
    """How a worker with exit status ``code`` ended, in words."""
    if code is None:
        return "the worker process closed its pipe"
    if code < 0:
        try:
            sig = signal.Signals(-code)
            return (
                f"the worker process was killed by signal {-code} ({sig.name}: "
                f"{signal.strsignal(sig)})"
            )
        except ValueError:
            return f"the worker process was killed by signal {-code}"
    return f"the worker process exited with status {code} (the target ended it, e.g. with os._exit)"


class Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        root = str(Path(__file__).resolve().parents[2])
        code = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from adamproofs.conformance._worker import main; "
            "main(int(sys.argv[1]), int(sys.argv[2]))"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, root, str(child_read), str(child_write)],
                pass_fds=(child_read, child_write),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            os.close(child_read)
            os.close(child_write)
        self.requests = Connection(parent_write, readable=False)
        self.replies = Connection(parent_read, writable=False)
        self._finalizer = weakref.finalize(
            self, Worker._reap, self.process, self.requests, self.replies
        )
        self.imported: set[str] = set()

    @staticmethod
    def _reap(process: subprocess.Popen, requests: Connection, replies: Connection) -> None:
        for conn in (requests, replies):
            with contextlib.suppress(OSError):
                conn.close()
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL is delivered
            process.wait(timeout=10)

    def kill(self) -> None:
        """End the worker now."""
        self._finalizer()

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and self.process.poll() is None

    def send(self, message: tuple) -> None:
        try:
            self.requests.send(message)
        except (OSError, ValueError) as err:
            self._ended()
            raise AssertionError("unreachable") from err

    def receive(self, timeout: float) -> tuple:
        """The next reply; :class:`_WorkerEnded` when the worker died or was too slow."""
        try:
            if not self.replies.poll(timeout):
                self.kill()
                raise _WorkerEnded(
                    f"did not finish within {timeout:g} s (the worker process was killed)"
                )
            return self.replies.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            self._ended()
        except BaseException:
            self.kill()  # Ctrl-C, or anything else: the worker must not outlive the wait
            raise
        raise AssertionError("unreachable")

    def _ended(self) -> None:
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        raise _WorkerEnded(_exit_cause(code))


@dataclass(frozen=True)
class _BlobRef:
    """A checkpoint kept in the worker that saved it."""

    generation: int
    bid: int


@dataclass
class _Launch:
    """Everything the worker needs to load the target."""

    target: Any
    kind: str | None
    device: str
    options: dict[str, Any]
    path: list[str] = field(default_factory=lambda: [p for p in sys.path if p])
    cwd: str = field(default_factory=os.getcwd)


class IsolatedImplementation:
    """An :class:`~.protocol.Implementation` whose target runs in a worker process.

    ``create``/``create_groups`` return :class:`IsolatedSession` objects; ``close()``
    (or leaving a ``with`` block) ends the worker.
    """

    def __init__(self, launch: _Launch, isolation: Isolation) -> None:
        self._launch = launch
        self.options = isolation
        self._worker: Worker | None = None
        self._generation = 0
        self._ends: list[str] = []
        self._next_id = 0
        self._closed_sessions: list[int] = []
        self._closed_blobs: list[int] = []
        self.isolation = "worker process"
        try:
            info = self._start("import")
        except BaseException:
            self.close()
            raise
        self.name: str = info["name"]
        self.features: frozenset[str] = frozenset(info["features"])
        self.claims: dict[str, Any] = dict(info["claims"])
        if info["groups"]:
            self.create_groups = self._create_groups

    # -- the worker --------------------------------------------------------------------

    def _start(self, stage: str) -> dict[str, Any]:
        """Start a worker and load the target in it; its description of the target."""
        self._worker = worker = Worker()
        self._generation += 1
        self._closed_sessions.clear()
        self._closed_blobs.clear()
        launch = self._launch
        self._send(
            worker,
            stage,
            (
                "load",
                launch.target,
                launch.kind,
                launch.device,
                launch.options,
                launch.path,
                launch.cwd,
                self.options.memory_limit,
            ),
        )
        try:
            self._reply(worker, "worker start", STARTUP_SECONDS)
            return self._reply(worker, stage, self.options.timeout)  # type: ignore[no-any-return]
        except TargetFailure as err:
            if worker.alive:  # loading failed without ending the worker: it is of no use
                self._ends.append(str(err))
                worker.kill()
            raise

    def _send(self, worker: Worker, stage: str, message: tuple) -> None:
        """Send ``message`` with the ids of sessions and checkpoints no longer used."""
        closed = (list(self._closed_sessions), list(self._closed_blobs))
        self._closed_sessions.clear()
        self._closed_blobs.clear()
        try:
            worker.send((closed, *message))
        except _WorkerEnded as err:
            self._ends.append(f"{stage}: {err}")
            raise TargetFailure(stage, str(err)) from None

    def _reply(self, worker: Worker, stage: str, timeout: float) -> Any:
        """The value of the next reply; a failure or an ended worker as TargetFailure."""
        try:
            reply = worker.receive(timeout)
        except _WorkerEnded as err:
            self._ends.append(f"{stage}: {err}")
            raise TargetFailure(stage, str(err)) from None
        match reply[0]:
            case "ok" | "row":
                return reply[1]
            case "fail":
                raise TargetFailure(reply[1], reply[2])
            case "mutated":
                raise InputMutated(reply[1])
            case _:
                raise TargetFailure(stage, f"the worker sent an unknown reply {reply[0]!r}")

    def _live_worker(self, stage: str, generation: int | None = None) -> Worker:
        """The running worker, restarted (within the budget) when it ended; a session of
        ``generation`` needs the worker it was created in."""
        if self._worker is None or not self._worker.alive:
            if len(self._ends) > self.options.restarts:
                raise TargetFailure(
                    stage,
                    f"not run: the worker process ended "
                    f"{len(self._ends)} times in this check, the last time "
                    f"in {self._ends[-1]}; the target is not run again",
                )
            self._start(f"import (restarting the worker before {stage})")
        if generation is not None and generation != self._generation:
            raise TargetFailure(
                stage,
                "this session lived in a worker process that has ended since; its state is lost",
            )
        assert self._worker is not None
        return self._worker

    def _import_dtype_module(self, worker: Worker, dtype: np.dtype) -> None:
        """Have the worker import the module defining ``dtype`` (``ml_dtypes`` for
        bfloat16) before arrays of it are sent: unpickling them would import it, and that
        must not count as the target's time."""
        module = dtype.type.__module__.partition(".")[0]
        if module == "numpy" or module in worker.imported:
            return
        self._send(worker, "worker", ("import", module))
        self._reply(worker, "worker", STARTUP_SECONDS)
        worker.imported.add(module)

    def _request(self, stage: str, op: str, *args: Any, generation: int | None = None) -> Any:
        """Send one request and wait for its reply (``timeout`` seconds)."""
        worker = self._live_worker(stage, generation)
        self._send(worker, stage, (op, *args))
        return self._reply(worker, stage, self.options.timeout)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def close(self) -> None:
        """End the worker (a later call starts a new one)."""
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def __enter__(self) -> IsolatedImplementation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Implementation protocol ---------------------------------------------------

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: Any) -> IsolatedSession:
        return self._open(hyper, params, None, dtype)

    def _create_groups(
        self, groups: Sequence[tuple[Hyper, Sequence[np.ndarray]]], dtype: Any
    ) -> IsolatedSession:
        params = [p for _, ps in groups for p in ps]
        return self._open(groups[0][0], params, [(h, len(ps)) for h, ps in groups], dtype)

    def _open(
        self,
        hyper: Hyper,
        params: Sequence[np.ndarray],
        groups: list[tuple[Hyper, int]] | None,
        dtype: Any,
        steps_done: int = 0,
    ) -> IsolatedSession:
        dt = as_dtype(dtype)
        arrays = [np.asarray(p, dtype=dt) for p in params]
        sid = self._new_id()
        self._import_dtype_module(self._live_worker("construct"), dt)
        self._request("construct", "create", sid, hyper, arrays, groups, dt)
        return IsolatedSession(self, sid, self._generation, steps_done)

    # -- driving a case ----------------------------------------------------------------

    def drive(
        self, case: Case, *, session: Any = None, start: int = 0, stop: int | None = None
    ) -> Run:
        """:func:`.drive.drive` in the worker: one request for the case (the session's
        construction included), θ streamed back one row per step (a request per step
        when the gradients come from the implementation's θ)."""
        run = Run(thetas=[], grads=[])
        end = case.n_steps if stop is None else stop
        step_no = start
        try:
            if session is not None and not isinstance(session, IsolatedSession):
                raise TypeError(
                    f"drive() got a session {session!r} that does not belong to "
                    "the isolated implementation"
                )
            if case.grad_fn is None:
                rows = [gradients_of(case, k, []) for k in range(start, end)]
                stream, session = self._stream(case, session, start, rows)
                for theta in stream:
                    if run.thetas:
                        run.grads.append(rows[len(run.thetas) - 1])
                    run.thetas.append(theta)
                    step_no = start + len(run.thetas)
                step_no = end
            else:
                if session is None:
                    session = self._open(case.hyper, case.params, case.groups, case.dtype)
                run.thetas.append(session.params(f"params() before step {start + 1}"))
                for k in range(start, end):
                    step_no = k + 1
                    g = gradients_of(case, k, run.thetas[-1])
                    run.thetas.append(session.step(g, k + 1, returning=True))
                    run.grads.append(g)
                session.check("at the end of the case")
        except InputMutated as err:
            run.mutated = str(err)
            run.error_step = step_no
        except TargetFailure as err:
            run.error = str(err)
            run.error_step = step_no
        run.session = session  # type: ignore[attr-defined]
        return run

    def _stream(
        self,
        case: Case,
        session: IsolatedSession | None,
        start: int,
        rows: list[list[np.ndarray | None]],
    ) -> tuple[Iterator[list[np.ndarray]], IsolatedSession]:
        """Send the case (with the session's construction when ``session`` is None); θ
        before step ``start+1`` and after each step of ``rows`` as the worker sends them
        (each within ``timeout`` seconds of the previous one), and the session."""
        stage = "construct" if session is None else f"params() before step {start + 1}"
        worker = self._live_worker(stage, None if session is None else session.generation)
        dt = as_dtype(case.dtype)
        self._import_dtype_module(worker, dt)
        create = None
        if session is None:
            create = (case.hyper, [np.asarray(p, dtype=dt) for p in case.params], case.groups, dt)
            session = IsolatedSession(self, self._new_id(), self._generation)
        self._send(worker, stage, ("run", session.sid, start, rows, create))

        def stream() -> Iterator[list[np.ndarray]]:
            stage_now, finished = stage, False
            try:
                for k in range(start, start + len(rows) + 1):
                    yield self._reply(worker, stage_now, self.options.timeout)
                    stage_now = f"step {k + 1}"
                self._reply(worker, "at the end of the case", self.options.timeout)
                finished = True
            except (TargetFailure, InputMutated):
                finished = True  # the worker's last reply: the pipe is in step
                raise
            finally:
                if not finished:  # abandoned midway (Ctrl-C): unread replies would confuse
                    worker.kill()  # the next request
            assert session is not None
            session.steps_done = start + len(rows)

        return stream(), session


class IsolatedSession:
    """A :class:`~.protocol.Session` living in the worker of an
    :class:`IsolatedImplementation`; its methods raise :class:`~.drive.TargetFailure`
    (or :class:`~.protocol.InputMutated`) for the target's failures."""

    def __init__(
        self, impl: IsolatedImplementation, sid: int, generation: int, steps_done: int = 0
    ) -> None:
        self._impl = impl
        self.sid = sid
        self.generation = generation
        self.steps_done = steps_done
        weakref.finalize(self, impl._closed_sessions.append, sid)

    def step(
        self,
        grads: Sequence[np.ndarray | None],
        number: int | None = None,
        *,
        returning: bool = False,
    ) -> Any:
        k = self.steps_done + 1 if number is None else number
        theta = self._impl._request(
            f"step {k}",
            "step",
            self.sid,
            k,
            [None if g is None else np.asarray(g) for g in grads],
            generation=self.generation,
        )
        self.steps_done = k
        return theta if returning else None

    def params(self, stage: str | None = None) -> list[np.ndarray]:
        stage = stage or f"params() after step {self.steps_done}"
        return self._impl._request(
            stage,
            "params",
            self.sid,  # type: ignore[no-any-return]
            generation=self.generation,
        )

    def moments(self) -> Any:
        """The target session's optional ``moments()`` (None when it has none)."""
        return self._impl._request(
            f"moments() after step {self.steps_done}",
            "moments",
            self.sid,
            generation=self.generation,
        )

    def check(self, when: str) -> None:
        """Raise :class:`~.protocol.InputMutated` when an array handed over changed."""
        self._impl._request(when, "check", self.sid, when, generation=self.generation)

    def save(self) -> _BlobRef:
        bid = self._impl._new_id()
        self._impl._request("checkpoint save", "save", self.sid, bid, generation=self.generation)
        ref = _BlobRef(self.generation, bid)
        weakref.finalize(ref, self._impl._closed_blobs.append, bid)
        return ref

    def restore(self, blob: Any) -> None:
        if isinstance(blob, _BlobRef):
            if blob.generation != self.generation:
                raise TargetFailure(
                    "checkpoint restore",
                    "the checkpoint was saved in a worker process that has ended since; it is lost",
                )
            self._impl._request(
                "checkpoint restore",
                "restore",
                self.sid,
                blob.bid,
                None,
                generation=self.generation,
            )
        else:
            self._impl._request(
                "checkpoint restore", "restore", self.sid, None, blob, generation=self.generation
            )


class InProcessImplementation:
    """An implementation run in the caller's process (a target the worker cannot load):
    its sessions are :class:`~.drive.GuardedSession` objects; :attr:`isolation` says why
    it is not isolated."""

    def __init__(self, impl: Any, reason: str) -> None:
        self.impl = impl
        self.name: str = getattr(impl, "name", repr(impl))
        self.features: frozenset[str] = frozenset(getattr(impl, "features", ()))
        self.claims: dict[str, Any] = dict(getattr(impl, "claims", {}) or {})
        self.isolation = f"in-process: {reason}"
        if callable(getattr(impl, "create_groups", None)):
            self.create_groups = self._create_groups

    def create(self, hyper: Hyper, params: list[np.ndarray], dtype: Any) -> GuardedSession:
        return GuardedSession.create(self.impl, hyper, params, None, dtype)

    def _create_groups(
        self, groups: Sequence[tuple[Hyper, Sequence[np.ndarray]]], dtype: Any
    ) -> GuardedSession:
        params = [p for _, ps in groups for p in ps]
        return GuardedSession.create(
            self.impl, groups[0][0], params, [(h, len(ps)) for h, ps in groups], dtype
        )

    def close(self) -> None:
        """Nothing to end."""

    def __enter__(self) -> InProcessImplementation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_picklable_reason(target: Any) -> str | None:
    """Why ``target`` cannot be sent to a worker by pickling, or None."""
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
    if module == "__main__" or (isinstance(target, type) and module == "__main__"):
        return f"{qualname or type(target).__name__} is defined in __main__"
    if "<locals>" in (qualname or "") or "<lambda>" in (qualname or ""):
        return f"{qualname} is defined inside a function"
    if type(target).__module__ == "__main__":
        return f"its class {type(target).__qualname__} is defined in __main__"
    try:
        pickle.dumps(target)
    except Exception as err:  # any pickling failure: not sendable
        return f"it cannot be pickled ({type(err).__name__}: {err})"
    return None


def isolate(
    target: Any = "numpy",
    *,
    kind: str | None = None,
    device: str = "cpu",
    options: dict[str, Any] | None = None,
    isolation: Isolation | None = None,
) -> IsolatedImplementation | InProcessImplementation:
    """An :class:`~.protocol.Implementation` for ``target`` (as
    :func:`~.targets.load_target`) running in a worker process.

    ``isolation=None`` uses :class:`Isolation` defaults. Raises
    :class:`~.protocol.TargetError` when the target cannot be loaded, naming the stage
    ``import`` and the cause (an exception, an exit, a signal, a timeout). An object
    that cannot be sent to a worker (see the module doc) is loaded in-process.
    """
    opts = isolation if isolation is not None else Isolation()
    sent: Any = target
    if os.name != "posix":  # the worker's pipes are passed as file descriptors
        return InProcessImplementation(
            load_target(target, kind=kind, device=device, **(options or {})),
            "worker processes need a POSIX system",
        )
    if not isinstance(target, str):
        reason = _not_picklable_reason(target)
        if reason is not None:
            return InProcessImplementation(
                load_target(target, kind=kind, device=device, **(options or {})), reason
            )
        sent = pickle.dumps(target)
    launch = _Launch(sent, kind, device, dict(options or {}))
    try:
        return IsolatedImplementation(launch, opts)
    except TargetFailure as err:
        refused = f"raised {UsageError.__name__}: "
        if err.stage == "import" and err.cause.startswith(refused):
            # the loader refused an option: a usage error, worded as in-process
            raise UsageError(err.cause[len(refused) :].split("\n")[0]) from None
        raise TargetError(f"{err.stage}: {err.cause}") from None
