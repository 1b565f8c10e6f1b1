"""Hostile targets: implementations that exit, hang, crash, hog memory, write into the
caller's arrays or return the wrong thing, each with the verdict the checker must give.

:data:`CORPUS` maps a name to a :class:`Hostile`: the target (``module:attr`` under
``tests.conformance.hostile``), the expected verdict (``pass``, ``fail``, or
``unloadable``: :class:`~adamproofs.conformance.protocol.TargetError`), a regular
expression the report (or the error) must match, naming the stage and the cause, and
the properties to run. Importing this package imports none of the targets.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKAGE = "tests.conformance.hostile"


@dataclass(frozen=True)
class Hostile:
    """One target and what the checker must say about it."""

    target: str
    verdict: str  # pass | fail | unloadable
    expect: str  # regular expression: the stage and the cause
    properties: tuple[str, ...] = ("inputs_unmutated",)
    xfail: str | None = None

    @property
    def timeout(self) -> float:
        """2 s for the targets that hang (the expected text names it), else 30 s."""
        return 2.0 if "did not finish within 2 s" in self.expect else 30.0


def _h(attr: str, verdict: str, expect: str, *properties: str, xfail: str | None = None) -> Hostile:
    return Hostile(f"{PACKAGE}.{attr}", verdict, expect, properties or ("inputs_unmutated",), xfail)


CORPUS: dict[str, Hostile] = {
    # controls
    "correct_plain": _h(
        "base:Adam", "pass", r"inputs_unmutated\s+float32\s+PASS", "inputs_unmutated", "checkpoint"
    ),
    "correct_implementation": _h(
        "base:IMPL", "pass", r"checkpoint\s+float32\s+PASS", "inputs_unmutated", "checkpoint"
    ),
    # import
    "import_sys_exit": _h("import_sys_exit:Adam", "unloadable", r"import: raised SystemExit"),
    "import_os_exit0": _h(
        "import_os_exit0:Adam", "unloadable", r"import: the worker process exited with status 0"
    ),
    "import_os_exit3": _h(
        "import_os_exit3:Adam", "unloadable", r"import: the worker process exited with status 3"
    ),
    "import_loop": _h("import_loop:Adam", "unloadable", r"import: did not finish within 2 s"),
    "import_error": _h(
        "import_error:Adam",
        "unloadable",
        r"import: cannot import module .*adamproofs_no_such_module",
    ),
    "import_segfault": _h(
        "import_segfault:Adam",
        "unloadable",
        r"import: the worker process was killed by signal 11 \(SIGSEGV",
    ),
    "import_interrupt": _h(
        "import_interrupt:Adam", "unloadable", r"import: raised KeyboardInterrupt"
    ),
    # construct
    "construct_raises": _h(
        "construct:Raises", "fail", r"construct: raised RuntimeError: cannot build this optimizer"
    ),
    "construct_loop": _h("construct:InfiniteLoop", "fail", r"construct: did not finish within 2 s"),
    "construct_os_exit0": _h(
        "construct:OsExit0", "fail", r"construct: the worker process exited with status 0"
    ),
    # step
    "step_prints_and_reads_stdin": _h(
        "channels:Chatty", "pass", r"inputs_unmutated\s+float32\s+PASS", "inputs_unmutated"
    ),
    "step_sys_exit": _h("step:SysExit0", "fail", r"step 1: raised SystemExit: 0"),
    "step_os_exit0": _h("step:OsExit0", "fail", r"step 1: the worker process exited with status 0"),
    "step_os_exit3": _h("step:OsExit3", "fail", r"step 1: the worker process exited with status 3"),
    "step_os_exit_at_3": _h(
        "step:OsExit0AtStep3", "fail", r"step 3: the worker process exited with status 0"
    ),
    "step_keyboard_interrupt": _h(
        "step:RaiseKeyboardInterrupt", "fail", r"step 1: raised KeyboardInterrupt"
    ),
    "step_base_exception": _h(
        "step:RaiseBaseException", "fail", r"step 1: raised Doom: the end of the world"
    ),
    "step_value_error": _h("step:RaiseValueError", "fail", r"step 1: raised ValueError: no step"),
    "step_loop": _h("step:InfiniteLoop", "fail", r"step 1: did not finish within 2 s"),
    "step_sleep": _h("step:SleepForever", "fail", r"step 1: did not finish within 2 s"),
    "step_null_pointer": _h(
        "step:NullPointer", "fail", r"step 1: the worker process was killed by signal 11 \(SIGSEGV"
    ),
    "step_kill_segv": _h(
        "step:KillSegv", "fail", r"step 1: the worker process was killed by signal 11 \(SIGSEGV"
    ),
    "step_abort": _h(
        "step:Abort", "fail", r"step 1: the worker process was killed by signal 6 \(SIGABRT"
    ),
    "step_memory": _h(
        "step:MemoryHog", "fail", r"step 1: raised MemoryError(.|\n)*memory limit: 256 MiB"
    ),
    # checkpoint
    "save_os_exit": _h(
        "checkpoint:ExitInStateDict",
        "fail",
        r"checkpoint save: the worker process exited with status 0",
        "checkpoint",
    ),
    "restore_raises": _h(
        "checkpoint:RaiseInLoad", "fail", r"checkpoint restore: raised KeyError: 'm'", "checkpoint"
    ),
    # inputs written
    "writes_gradient": _h(
        "mutation:WritesGradient",
        "fail",
        r"the gradient of params\[0\] given at step 1 was written: element "
        r"\(.*\) changed from .* \(found after step 1\)",
    ),
    "deferred_gradient_write": _h(
        "mutation:DeferredGradientWrite",
        "fail",
        r"the gradient of params\[0\] given at step 1 was written: "
        r".* \(found after step 2\)",
    ),
    "negative_zero": _h(
        "mutation:NegativeZero",
        "fail",
        r"given at step \d+ was written: element .* changed from 0.0 to -0.0",
    ),
    "writes_initial": _h(
        "mutation:WRITES_INITIAL",
        "fail",
        r"the initial value of params\[0\] given to create\(\) was written",
    ),
    "writes_checkpoint": _h(
        "mutation:WRITES_CHECKPOINT",
        "fail",
        r"the checkpoint given to restore\(\)\['state'\]\['m'\]\[0\] was "
        r"written",
        "checkpoint",
    ),
    # params() returns the wrong thing
    "params_list_of_lists": _h(
        "params:LIST_OF_LISTS", "fail", r"params\(\) before step 1: params\(\)\[0\] is a list"
    ),
    "params_float64": _h(
        "params:FLOAT64", "fail", r"params\(\)\[0\] has dtype float64; expected float32"
    ),
    "params_flat": _h("params:FLAT", "fail", r"params\(\)\[0\] has shape \(1,\); expected"),
    "params_none": _h("params:NONE", "fail", r"params\(\) returned NoneType"),
    "params_too_few": _h("params:TOO_FEW", "fail", r"params\(\) returned 0 arrays for"),
    "plain_changes_dtype": _h(
        "params:ChangesDtype", "fail", r"params\(\) after step 1: params\(\)\[0\] has dtype float64"
    ),
    # non-finite values in some parameters only
    "nan_into_0d": _h("nonfinite:NanInto0d", "fail", r"became nan", "many_params"),
    "inf_into_2d": _h("nonfinite:InfInto2d", "fail", r"became -?inf", "many_params"),
}
