r"""The block watchdog: a block runs on a worker thread; one not finished within ``block_timeout``
seconds is reported (with the phase it was in: compiling, waiting for the device computation …) and
the process ends with :data:`TIMEOUT_EXIT` (a running XLA computation cannot be cancelled); finished
blocks stay."""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["BLOCK_TIMEOUT", "TIMEOUT_EXIT", "INTERRUPT_EXIT", "watched", "interruptible"]


BLOCK_TIMEOUT = 600.0
"""Default seconds a block may take (compilation of the first block included) before the watchdog
reports it and ends the process (``--block-timeout``)."""


TIMEOUT_EXIT = 3
"""Exit status of a process ended by the block watchdog."""


def watched(fn, timeout: float | None, on_timeout):
    """``fn(stage)`` on a worker thread, waiting at most ``timeout`` s; on time-out
    ``on_timeout(stage)``.

    ``stage`` is a callable the work calls with the phase it enters; ``on_timeout`` receives the
    last phase and must not return (it ends the process). Without ``timeout`` ``fn`` runs here.
    """
    phase = ["starting"]

    def stage(text):
        phase[0] = text

    if not timeout:
        return fn(stage)
    box = {}

    def target():
        try:
            box["value"] = fn(stage)
        except BaseException as err:  # noqa: BLE001 - re-raised on the calling thread
            box["error"] = err

    worker = threading.Thread(target=target, name="ntk-verify-sweep-block", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        on_timeout(phase[0])
        raise RuntimeError("on_timeout returned")  # pragma: no cover - on_timeout ends the process
    if "error" in box:
        raise box["error"]
    return box["value"]


INTERRUPT_EXIT = 130
"""Exit status of a sweep ended by Ctrl-C (128 + SIGINT), its finished blocks kept."""


def interruptible(fn, words: str, *, stream=None):
    """``fn()``; on Ctrl-C print ``words`` (what was kept) and end the process with
    :data:`INTERRUPT_EXIT` at once.

    Returning through the interpreter's shutdown while an XLA computation still runs on another
    thread aborts from C++ ("terminate called … exception not rethrown", exit 134); :func:`os._exit`
    skips it. Every block already written is complete (atomic writes), so nothing is lost but the
    running block."""
    try:
        return fn()
    except KeyboardInterrupt:
        print(words, file=stream or sys.stderr, flush=True)
        os._exit(INTERRUPT_EXIT)
