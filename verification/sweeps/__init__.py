r"""Width × seed sweeps on disk, resumable, one shard per process: the library behind
``ntk-verify sweep``.

The maths is :mod:`ntk_attention.sweep` (one compiled program for every width and seed; the
runs laid out over the process's devices). This package adds, one module each: the configuration
(:mod:`~verification.sweeps.plan`), the files (:mod:`~verification.sweeps.store`), resuming
(:mod:`~verification.sweeps.resume`), the watchdog (:mod:`~verification.sweeps.watchdog`), hosts
(:mod:`~verification.sweeps.hosts`), merging (:mod:`~verification.sweeps.merge`) and the report
(:mod:`~verification.sweeps.render`). :mod:`verification.commands.sweep` only parses and prints.

Configuration: the ``[run]`` seed and the ``[data]`` section of :mod:`verification.config` (the same
state-space data set as ``ntk-verify run``: :meth:`verification.claims.Context.dataset`), plus
``[sweep]`` (:data:`verification.config.SWEEP_FIELDS`). Seeds are ``Context.network_seeds(seeds)``;
seeds ``j*B … (j+1)*B − 1`` (``B = seeds_per_block``) form **block j**, covering every width. Flags
override the file.

Layout of ``--out DIR``::

    sweep.json                  format, configuration, fingerprint, seeds, blocks, environment
                                (versions, devices of every process), complete: true|false
    blocks/block-00007.npz      one finished block (np.savez, no pickle; written atomically:
                                temporary file + os.replace), with the sweep's fingerprint
    shards/process-1-of-4.json  one per process: its host, devices, blocks computed and reused
    sweep.npz                   the merged result: every field of ntk_attention.sweep.SweepResult,
                                arrays indexed width × seed × recorded step, plus the training
                                windows and targets and the sign agreement as fractions; sweep.json
                                "arrays" names every array's dimensions and meaning (units, the
                                loss convention ½Σ); ntk_attention.sweep.load(path).to_xarray()

Devices: :func:`ntk_attention.sweep.plan_sweep` chooses the layout — whole runs per device with
no collective (``"runs"``) whenever the most loaded device's share fits its memory, else every
run split over the devices (``"neurons"``); the shard manifest and ``sweep.json`` record which
(``layout``). Watchdog: with ``block_timeout`` (``--block-timeout``, default
:data:`BLOCK_TIMEOUT` s) a block runs on a worker thread; one not finished in time is reported on
stderr (block, seeds, devices, layout, and the phase it was in: compiling, waiting for the device
computation …), recorded in the shard manifest, and the process ends with status
:data:`TIMEOUT_EXIT` through :func:`os._exit` (a running XLA computation cannot be cancelled);
finished blocks stay on disk and a rerun resumes.

Resume: a block file that exists and carries this sweep's fingerprint and seeds is never
recomputed, so a sweep killed at any point (even SIGKILL) reruns only the missing blocks; every
block has the same shapes, so the compiled program is reused. ``--seeds`` may grow between runs
(the blocks of the earlier seeds are reused); any other change of configuration is refused for
an existing DIR.

Hosts: ``--distributed`` calls :func:`jax.distributed.initialize` (coordinator address, number
of processes and process id from the flags, else from the environment as JAX detects it: SLURM,
Cloud TPU, Open MPI, ``JAX_COORDINATOR_ADDRESS``). Process ``p`` of ``P`` computes blocks
``j ≡ p (mod P)`` on its own devices (no communication between hosts during the sweep) and
writes its own block files and shard manifest; after a barrier process 0 merges when it sees
every block (a shared file system); otherwise copy every host's ``blocks/`` and ``shards/`` into
one DIR and run ``ntk-verify report DIR``, which merges them (see docs/distributed.md).
"""

from verification.config import SWEEP_FIELDS
from verification.sweeps.merge import load_merged, merge
from verification.sweeps.plan import (
    FORMAT,
    SECTIONS,
    block_seeds,
    config_differences,
    fingerprint,
    learning_rate,
    resolve_config,
    stability_warning,
)
from verification.sweeps.render import lambda_min_text, render_sweep
from verification.sweeps.resume import SweepRun, run_sweep
from verification.sweeps.watchdog import BLOCK_TIMEOUT, TIMEOUT_EXIT

__all__ = [
    "SWEEP_FIELDS",
    "FORMAT",
    "SECTIONS",
    "SweepRun",
    "resolve_config",
    "learning_rate",
    "fingerprint",
    "config_differences",
    "stability_warning",
    "block_seeds",
    "run_sweep",
    "merge",
    "load_merged",
    "render_sweep",
    "lambda_min_text",
    "BLOCK_TIMEOUT",
    "TIMEOUT_EXIT",
]
