"""The worker process of :mod:`.isolation`: loads the target and runs it on request.

Started as ``python -c ... <read fd> <write fd>`` by :class:`.isolation.Worker`; the two
file descriptors are the request and reply pipes (pickled messages, see
:mod:`multiprocessing.connection`). The worker ignores SIGINT (the parent's Ctrl-C is
the parent's to handle; it kills the worker), dies with its parent (Linux), and sends
what the target prints on stdout to stderr, so that it cannot mix with the parent's
output.

Requests are tuples ``((closed session ids, closed checkpoint ids), op, *args)``; every
reply is ``("ok", value)``, ``("row", θ)``
(streamed, one per step of a ``run``), ``("fail", stage, cause)`` or
``("mutated", text)``. Arrays are recorded and checked here, on the copies the target
actually received (:class:`.drive.GuardedSession`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import resource
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from . import _drive as drive_module
from ._drive import GuardedSession, TargetFailure, call_target, describe_exception
from .adapters import ADAPTERS
from .protocol import InputMutated, TargetError

#: The checker's own modules that loading a target imports: imported at start, so that
#: their import does not count as the target's time.
CHECKER_MODULES: tuple[str, ...] = (
    "adamproofs.conformance._targets",
    *ADAPTERS.values(),
    "adamproofs.conformance.adapters.numpy",
)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent ends (no effect elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _limit_memory(extra: int) -> None:
    """Limit the address space to its current size plus ``extra`` bytes."""
    current = 0
    with contextlib.suppress(OSError, ValueError), open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + extra
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class Worker:
    """The worker's state: the loaded implementation, its sessions and saved blobs."""

    def __init__(self, replies: Connection) -> None:
        self.replies = replies
        self.impl: Any = None
        self.memory_limit: int | None = None
        self.sessions: dict[int, GuardedSession] = {}
        self.blobs: dict[int, Any] = {}

    def load(
        self,
        target: Any,
        kind: str | None,
        device: str,
        options: dict[str, Any],
        path: list[str],
        cwd: str,
        memory_limit: int | None,
    ) -> dict[str, Any]:
        """Load the target (stage ``import``); its name, features, claims and groups."""
        from ._targets import load_target

        sys.path[:] = path + [p for p in sys.path if p not in path]
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        try:
            obj = (
                call_target("import", lambda: pickle.loads(target))
                if isinstance(target, bytes)
                else target
            )
            self.impl = call_target(
                "import", lambda: load_target(obj, kind=kind, device=device, **options)
            )
        except TargetFailure as err:
            cause = err.__cause__
            if isinstance(cause, TargetError):
                raise TargetFailure("import", str(cause)) from None
            raise
        self.memory_limit = memory_limit
        if memory_limit is not None:
            _limit_memory(memory_limit)
        feats = call_target("import", lambda: frozenset(getattr(self.impl, "features", ())))
        claims = call_target("import", lambda: dict(getattr(self.impl, "claims", {}) or {}))
        return {
            "name": str(getattr(self.impl, "name", repr(self.impl))),
            "features": feats,
            "claims": claims,
            "groups": callable(getattr(self.impl, "create_groups", None)),
        }

    def handle(self, op: str, args: tuple) -> Any:
        """One request; its reply value (``run`` streams its rows itself)."""
        match op:
            case "load":
                return self.load(*args)
            case "import":
                importlib.import_module(args[0])
                return None
            case "create":
                sid, hyper, params, groups, dtype = args
                self.sessions[sid] = GuardedSession.create(self.impl, hyper, params, groups, dtype)
                return None
            case "run":
                sid, start, rows, create = args
                if create is not None:
                    self.sessions[sid] = GuardedSession.create(self.impl, *create)
                guarded = self.sessions[sid]
                self.replies.send(("row", guarded.params(f"params() before step {start + 1}")))
                for k, grads in enumerate(rows, start=start):
                    self.replies.send(("row", guarded.step(grads, k + 1)))
                guarded.ledger.check("at the end of the case")
                return None
            case "step":
                sid, number, grads = args
                return self.sessions[sid].step(grads, number)
            case "params":
                (sid,) = args
                return self.sessions[sid].params()
            case "moments":
                (sid,) = args
                return self.sessions[sid].moments()
            case "check":
                sid, when = args
                self.sessions[sid].ledger.check(when)
                return None
            case "save":
                sid, bid = args
                self.blobs[bid] = self.sessions[sid].save()
                return None
            case "restore":
                sid, bid, blob = args
                self.sessions[sid].restore(self.blobs[bid] if bid is not None else blob)
                return None
            case _:
                raise ValueError(f"unknown request {op!r}")

    def reply_to(self, message: tuple) -> None:
        """Forget the sessions and checkpoints no longer used; handle the request."""
        (closed_sessions, closed_blobs), op, *args = message
        for sid in closed_sessions:
            self.sessions.pop(sid, None)
        for bid in closed_blobs:
            self.blobs.pop(bid, None)
        try:
            value = self.handle(op, tuple(args))
        except TargetFailure as err:
            if isinstance(err.__cause__, MemoryError) and self.memory_limit is not None:
                err = TargetFailure(
                    err.stage,
                    f"{err.cause}\n(the worker's memory limit: {self.memory_limit / 2**20:g} MiB)",
                )
            self.replies.send(("fail", err.stage, err.cause))
            return
        except InputMutated as err:
            self.replies.send(("mutated", str(err)))
            return
        self.replies.send(("ok", value))


def main(read_fd: int, write_fd: int) -> None:
    """Import the checker's modules, then serve requests until the request pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    os.dup2(2, 1)  # the target's prints go to stderr, never into the parent's stdout
    drive_module.INTERRUPTS_ARE_THE_TARGETS = True
    requests, replies = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    for name in CHECKER_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    worker = Worker(replies)
    replies.send(("ok", "ready"))
    while True:
        try:
            message = requests.recv()
        except EOFError:
            break
        try:
            worker.reply_to(message)
        except BaseException as err:  # a reply that cannot be sent
            with contextlib.suppress(BaseException):
                replies.send(
                    ("fail", "worker", "the worker could not reply: " + describe_exception(err))
                )


if __name__ == "__main__":  # pragma: no cover - started by isolation.Worker
    main(int(sys.argv[1]), int(sys.argv[2]))
