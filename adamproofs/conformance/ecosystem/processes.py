"""Long-lived cell processes: one per implementation and worker thread, reused.

Starting a cell's process costs more than most cells: importing torch or jax takes seconds.
A :class:`CellProcess` runs ``python -m adamproofs.conformance.ecosystem.child`` once and
hands it one request per line; it answers one result line per request. Only cells of one
implementation share a process (as ``adamproofs check`` runs all of a target's cases in one
worker), so no implementation sees another's state. After
``cells_per_process`` cells it is replaced (a bound on what one process accumulates: memory,
framework caches), and 1 gives a fresh process per cell. A thread keeps at most
:data:`MAX_LIVE_PROCESSES` processes alive.

Every abnormal end is bounded and told apart:

- the process does not answer within the cell's timeout: :class:`CellTimedOut`, and the
  process group is killed (a cell that loops would loop again, so it is not retried);
- the process ends, or closes its result channel, without answering: :class:`CellCrashed`,
  with the exit status or signal and the last line it wrote to stderr (Dask retries it, in a
  new process).

In both cases the process is dropped, so the next cell starts a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

from .child import MARKER
from .envs import Interpreter

#: The module a cell process runs.
CHILD = "adamproofs.conformance.ecosystem.child"

#: Seconds a process may take to exit after its requests end, before it is killed.
CLOSE_GRACE = 5.0


class CellCrashed(RuntimeError):
    """The cell's process died without a result (Dask retries the task)."""


class CellTimedOut(RuntimeError):
    """The cell's process did not answer within the cell's timeout (it was killed)."""


class CellProcess:
    """One running child process of an interpreter; :meth:`run` one request at a time."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interpreter = interpreter
        self.cells = 0
        # closed in _release, when the process ends (it outlives this method)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [interpreter.python, "-m", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=interpreter.environ(),
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        self._pending = b""

    @property
    def pid(self) -> int:
        return self._proc.pid

    def run(self, request: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """The process's result for ``request``; raises :class:`CellTimedOut` or
        :class:`CellCrashed` (after which this object must not be used again)."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise self._crashed() from None
        line = self._read_line(time.monotonic() + timeout, timeout)
        self.cells += 1
        result: dict[str, Any] = json.loads(line[len(MARKER) :])
        return result

    def _read_line(self, deadline: float, timeout: float) -> str:
        """The next result line, read within ``deadline`` (lines without the marker are
        skipped: the child sends only results, but a library's native code may write to
        any descriptor)."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                while b"\n" in self._pending:
                    raw, self._pending = self._pending.split(b"\n", 1)
                    text = raw.decode(errors="replace")
                    if text.startswith(MARKER):
                        return text
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    raise CellTimedOut(
                        f"timed out after {timeout:g} s (the cell's process was killed)"
                    )
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise self._crashed()
                self._pending += chunk

    def _crashed(self) -> CellCrashed:
        """The error for a process that stopped answering (waits for it to end)."""
        try:
            code: int | None = self._proc.wait(timeout=CLOSE_GRACE)
        except subprocess.TimeoutExpired:  # it closed its output but lives on
            code = None
        tail = self.stderr_tail()
        if code is None:
            self.kill()
            code = self._proc.returncode
        how = (
            f"died of signal {-code}"
            if code is not None and code < 0
            else f"exited with status {code} without a result"
        )
        return CellCrashed(f"the cell's process {how}" + (f": {tail}" if tail else ""))

    def stderr_tail(self) -> str:
        """The last non-empty line the process wrote to stderr ('' if none)."""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 4096))
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln]
        return lines[-1].strip() if lines else ""

    def close(self) -> None:
        """End the process: its requests end, then it is killed if it lingers."""
        if self._proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=CLOSE_GRACE)
            except subprocess.TimeoutExpired:
                self.kill()
        self._release()

    def kill(self) -> None:
        """Kill the process and its group now."""
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._release()

    def _release(self) -> None:
        for stream in (self._proc.stdin, self._proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError, ValueError):
            self._stderr.close()


#: Live processes per thread at most: starting another ends the least recently used. Cells
#: reach a worker roughly in configuration order, library after library, so a few suffice,
#: and each process holds a framework in memory (about 1 GB for TensorFlow).
MAX_LIVE_PROCESSES = 3


#: What a process serves: an interpreter and the implementation whose cells it runs.
_Key = tuple[Interpreter, str]


class _Pool(threading.local):
    """This thread's cell processes, one per key, least recently used first."""

    def __init__(self) -> None:
        self.processes: OrderedDict[_Key, CellProcess] = OrderedDict()

    def get(self, key: _Key) -> CellProcess:
        """The key's process, started if there is none."""
        process = self.processes.get(key)
        if process is not None:
            self.processes.move_to_end(key)
            return process
        while len(self.processes) >= MAX_LIVE_PROCESSES:
            _, oldest = self.processes.popitem(last=False)
            oldest.close()
        process = self.processes[key] = CellProcess(key[0])
        return process


_POOL = _Pool()


def run_in_process(
    interpreter: Interpreter,
    request: Mapping[str, Any],
    *,
    timeout: float,
    cells_per_process: int,
    implementation: str = "",
) -> dict[str, Any]:
    """``request``'s result from this thread's process of ``interpreter`` for
    ``implementation`` (started if there is none); the process is replaced after
    ``cells_per_process`` cells, and dropped when it times out or crashes (the error
    propagates)."""
    if cells_per_process < 1:
        raise ValueError(f"cells_per_process={cells_per_process} must be >= 1")
    key = (interpreter, implementation)
    process = _POOL.get(key)
    try:
        result = process.run(request, timeout)
    except BaseException:
        _POOL.processes.pop(key, None)
        process.kill()
        raise
    if process.cells >= cells_per_process:
        _POOL.processes.pop(key, None)
        process.close()
    return result


def close_all() -> None:
    """End this thread's cell processes."""
    while _POOL.processes:
        _, process = _POOL.processes.popitem()
        process.close()
