r"""Several hosts: joining the distributed runtime with a deadline, and the barrier after the
blocks.

:func:`connect` calls :func:`jax.distributed.initialize` (coordinator address, number of processes
and process id from the arguments, else from the environment as JAX detects it). A peer that never
starts would make it wait ``initialization_timeout`` and then abort the process from C++ (a
``DEADLINE_EXCEEDED`` trace, exit 134, Ctrl-C ignored meanwhile); here a watchdog thread ends the
process first, after ``timeout`` seconds, with one line naming the coordinator and the process ids
not confirmed, and exit status :data:`CONNECT_EXIT`.
"""

from __future__ import annotations

import os
import sys
import threading

import jax
from jax.experimental import multihost_utils

from verification import config as cfg

__all__ = ["CONNECT_TIMEOUT", "CONNECT_EXIT", "connect", "barrier", "missing_words"]

CONNECT_TIMEOUT = 120.0
"""Default seconds every process of a distributed sweep has to join (``--connect-timeout``)."""
CONNECT_EXIT = 2
"""Exit status of a process whose peers did not join in time."""
_MARGIN_S = (
    30  # JAX's own deadline comes later, so that the one-line report wins over its C++ abort
)


def missing_words(process_id: int | None, num_processes: int | None) -> str:
    """Which processes this one cannot confirm: the others (coordinator) or the coordinator (a
    peer)."""
    if num_processes is None or process_id is None:
        return "process ids unknown (taken from the environment)"
    if process_id == 0:
        others = ", ".join(str(i) for i in range(1, num_processes))
        return f"not every one of process ids {others} joined" if others else "none expected"
    return "process id 0 (the coordinator) did not answer"


def _check_hosts(address: str | None, count: int | None, pid: int | None) -> None:
    """The flags of a distributed sweep, checked before JAX sees them (one line each)."""
    if count is not None and count < 1:
        raise cfg.ConfigError(f"--num-processes: expected an integer >= 1, got {count}")
    if pid is not None and (pid < 0 or (count is not None and pid >= count)):
        where = f"in [0, {count}) (--num-processes = {count})" if count is not None else ">= 0"
        raise cfg.ConfigError(f"--process-id: expected an integer {where}, got {pid}")
    if address is None and not os.environ.get("JAX_COORDINATOR_ADDRESS"):
        if count is not None or pid is not None or not _cluster_detected():
            raise cfg.ConfigError(
                "--coordinator-address: expected HOST:PORT of process 0 with --distributed "
                "(or JAX_COORDINATOR_ADDRESS, or a cluster JAX detects: SLURM, Open MPI, TPU)"
            )


def _cluster_detected() -> bool:
    """Whether the environment names a cluster JAX takes the hosts from."""
    keys = ("SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE", "TPU_WORKER_HOSTNAMES", "CLOUD_TPU_TASK_ID")
    return any(k in os.environ for k in keys)


def connect(
    *,
    distributed: bool,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout: float = CONNECT_TIMEOUT,
    stream=None,
) -> None:
    """Join the distributed runtime (``distributed``) within ``timeout`` seconds, else end the
    process with one line on ``stream`` (stderr) and :data:`CONNECT_EXIT`. Without ``distributed``
    the other arguments must be None (:class:`verification.config.ConfigError` naming the flags)."""
    if not distributed:
        if any(v is not None for v in (coordinator_address, num_processes, process_id)):
            raise cfg.ConfigError(
                "--coordinator-address/--num-processes/--process-id: only with --distributed"
            )
        return
    if not (timeout > 0):
        raise cfg.ConfigError(f"--connect-timeout: expected seconds > 0, got {timeout}")
    _check_hosts(coordinator_address, num_processes, process_id)
    done = threading.Event()

    def watchdog():
        if not done.wait(timeout):
            where = (
                coordinator_address
                or os.environ.get("JAX_COORDINATOR_ADDRESS")
                or "from the environment"
            )
            print(
                "ntk-verify sweep: error: the distributed sweep did not start within "
                f"--connect-timeout = {timeout:g} s: "
                f"coordinator {where}, this process {process_id} of {num_processes}; "
                f"{missing_words(process_id, num_processes)}. "
                "Start every process (same --num-processes, "
                "distinct --process-id) or raise --connect-timeout",
                file=stream or sys.stderr,
                flush=True,
            )
            os._exit(CONNECT_EXIT)  # the runtime's connect cannot be cancelled from Python

    threading.Thread(target=watchdog, name="ntk-verify-connect", daemon=True).start()
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator_address,
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=int(timeout) + _MARGIN_S,
        )
    finally:
        done.set()


def barrier(name: str) -> None:
    """Wait until every process reaches ``name`` (nothing to wait for with one process)."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)
