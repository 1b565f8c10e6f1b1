"""Targets that end abnormally in ``step`` (each one line different from :class:`Adam`)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import numpy as np

from .base import Adam


class SysExit0(Adam):
    def step(self, grads):
        sys.exit(0)


class OsExit0(Adam):
    def step(self, grads):
        os._exit(0)


class OsExit3(Adam):
    def step(self, grads):
        os._exit(3)


class OsExit0AtStep3(Adam):
    def step(self, grads):
        if self.t[0] == 2:
            os._exit(0)
        super().step(grads)


class RaiseKeyboardInterrupt(Adam):
    def step(self, grads):
        raise KeyboardInterrupt


class Doom(BaseException):
    """A BaseException that is no Exception."""


class RaiseBaseException(Adam):
    def step(self, grads):
        raise Doom("the end of the world")


class RaiseValueError(Adam):
    def step(self, grads):
        raise ValueError("no step today")


class InfiniteLoop(Adam):
    def step(self, grads):
        while True:
            pass


class AnnouncedLoop(Adam):
    """Creates the file named by ``ADAMPROOFS_TEST_BUSY_FILE``, then loops (so a test knows
    the step has started)."""

    def step(self, grads):
        open(os.environ["ADAMPROOFS_TEST_BUSY_FILE"], "w").close()
        while True:
            pass


class SleepForever(Adam):
    def step(self, grads):
        signal.pause()


class NullPointer(Adam):
    def step(self, grads):
        ctypes.string_at(0)


class KillSegv(Adam):
    def step(self, grads):
        os.kill(os.getpid(), signal.SIGSEGV)


class Abort(Adam):
    def step(self, grads):
        os.abort()


class MemoryHog(Adam):
    def step(self, grads):
        self.hog = np.ones(2**27)  # 1 GiB
        super().step(grads)
