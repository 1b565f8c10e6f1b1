"""One virtual environment per library, built once and cached.

``ROOT/<library>-<hash>``, where the hash covers the library's pip spec, adamproofs's extras
and the Python version. An environment is built in a temporary directory beside its final place
(``python -m venv``, then ``pip install CHECKOUT[bf16] SPEC...`` from the package registry) and
renamed into place when complete, so a half-built environment is never used and two builders
racing for the same one both end with a complete one. Cells run with ``PYTHONPATH=CHECKOUT``,
so they run this checkout's code even if it changed since the environment was built.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import Library

#: The repository root of this checkout (what pip installs adamproofs from).
CHECKOUT = Path(__file__).resolve().parents[3]

#: The extras of adamproofs every environment gets (bf16: ml_dtypes, for bfloat16 arrays).
EXTRAS = "[bf16]"


class EnvError(RuntimeError):
    """The environment could not be built (the message ends with pip's last error line)."""


#: One thread per cell process (each variable only where the user has not set it): a Dask
#: worker is one core's worth of work, and frameworks that spread one small cell over every
#: core make two workers on two cores fight over them. The update is elementwise, so the
#: thread count does not change a result.
ONE_THREAD: dict[str, str] = {
    "OMP_NUM_THREADS": "1",  # torch's intra-op pool, OpenMP kernels
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


@dataclass(frozen=True)
class Interpreter:
    """Where a library's cells run: the Python executable and ``PYTHONPATH`` to put first."""

    python: str
    pythonpath: str

    def environ(self) -> dict[str, str]:
        """The environment of a cell's subprocess."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (self.pythonpath, env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("KERAS_BACKEND", "jax")
        for name, value in ONE_THREAD.items():
            env.setdefault(name, value)
        return env


def current_interpreter() -> Interpreter:
    """This interpreter (``--current-env``)."""
    return Interpreter(python=sys.executable, pythonpath=str(CHECKOUT))


def env_name(library: Library) -> str:
    """``<library>-<12 hex digits>``: the hash covers the pip spec, the extras of adamproofs
    and the Python version."""
    key = "\n".join([*sorted(library.pip), f"adamproofs{EXTRAS}", f"python {sys.version_info[:2]}"])
    return f"{library.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def env_python(path: Path) -> Path:
    """The interpreter inside the environment at ``path``."""
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(library: Library, root: Path, *, timeout: float = 1800.0) -> Interpreter:
    """The library's environment under ``root``, built if missing (see the module docstring)."""
    final = root / env_name(library)
    if not env_python(final).exists():
        _build(library, final, timeout)
    return Interpreter(python=str(env_python(final)), pythonpath=str(CHECKOUT))


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One build at a time under ``root``: pip builds adamproofs inside the checkout
    (``build/``, ``*.egg-info``), and two builds there at once break each other."""
    if os.name != "posix":  # pragma: no cover
        yield
        return
    import fcntl

    with open(root / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(library: Library, final: Path, timeout: float) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(final.parent):
        if not env_python(final).exists():  # another builder may have finished meanwhile
            _build_unlocked(library, final, timeout)


def _build_unlocked(library: Library, final: Path, timeout: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        _run([sys.executable, "-m", "venv", str(tmp)], timeout, "python -m venv")
        pip = [str(env_python(tmp)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run(
            [*pip, f"{CHECKOUT}{EXTRAS}", *library.pip],
            timeout,
            f"pip install {' '.join(library.pip)}",
        )
        # venv scripts hold the absolute path of the directory they were built in; the
        # interpreter itself (bin/python -m ...) does not, and cells only use that
        try:
            tmp.rename(final)
        except OSError:
            if not env_python(final).exists():  # not a racing builder that finished first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _run(cmd: list[str], timeout: float, what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EnvError(f"{what}: timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "ERROR" in ln] or lines
        raise EnvError(f"{what}: exit status {proc.returncode}: {errors[-1] if errors else ''}")


def remove_env(library: Library, root: Path) -> None:
    """Delete the library's cached environment (if any)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(root / env_name(library))
