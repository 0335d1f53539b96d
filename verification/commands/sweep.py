"""``ntk-verify sweep``: parse, one call into the sweep library (:mod:`verification.sweeps`),
print."""

from __future__ import annotations

import sys
from pathlib import Path

import jax

from verification import config as cfg
from verification import files, report
from verification.commands._shared import add_data_option, enable_x64, parse_source
from verification.pipeline import check_memory
from verification.sweeps import (
    BLOCK_TIMEOUT,
    TIMEOUT_EXIT,
    hosts,
    merge,
    render_sweep,
    resolve_config,
    run_sweep,
    stability_warning,
    watchdog,
)

__all__ = ["register"]


def _widths(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise cfg.ConfigError(
            f"--widths: expected comma-separated integers like 64,256,1024, got {text!r}"
        ) from None


def _cmd_sweep(args) -> int:
    enable_x64()  # float64 data and H*; [sweep] dtype picks the training's
    hosts.connect(
        distributed=args.distributed,
        coordinator_address=args.coordinator_address,  # before any device use
        num_processes=args.num_processes,
        process_id=args.process_id,
        timeout=args.connect_timeout,
    )
    config = resolve_config(
        args.config,
        source=parse_source(args.data),
        widths=_widths(args.widths) if args.widths else None,
        seeds=args.seeds,
        steps=args.steps,
        record_every=args.record_every,
        eta=args.learning_rate,
        eta_mode="absolute" if args.learning_rate is not None else None,
        seeds_per_block=args.seeds_per_block,
        dtype=args.dtype,
    )
    # a file, or a folder that takes no file: refused before any work
    files.check_output_folder(args.out)
    # refuse sizes beyond this machine, before any work
    check_memory(config, ["sweep"])
    pid, count = jax.process_index(), jax.process_count()
    warning = stability_warning(config) if pid == 0 else None
    if warning:
        print(warning, file=sys.stderr, flush=True)
    log = None if args.quiet else (lambda s: print(s, flush=True))
    if args.block_timeout is not None and not args.block_timeout >= 0:
        raise cfg.ConfigError(
            f"--block-timeout: expected seconds >= 0 (0: no watchdog), got {args.block_timeout}"
        )
    done = watchdog.interruptible(
        lambda: run_sweep(
            config,
            args.out,
            process_id=pid,
            process_count=count,
            devices=jax.local_devices(),
            log=log,
            block_timeout=args.block_timeout or None,
            force=args.force,
        ),
        "ntk-verify sweep: interrupted; the finished blocks are kept in "
        f"{Path(args.out) / 'blocks'} (a rerun with the "
        "same --out computes only the missing ones)",
    )
    print(
        f"process {pid} of {count}: {len(done.computed)} block(s) computed, "
        f"{len(done.reused)} reused, "
        f"{done.seconds:.1f} s on {len(jax.local_devices())} device(s)",
        flush=True,
    )
    hosts.barrier("ntk-verify sweep: every process wrote its blocks")
    if pid == 0:
        try:
            print(f"merged: {merge(args.out)}")
            text = render_sweep(args.out)
            files.atomic_write(Path(args.out) / "report.md", f"# ntk-verify sweep\n\n{text}")
            print(
                f"report: {Path(args.out) / 'report.md'} "
                "(re-render, or merge blocks copied from other hosts, with "
                f"`ntk-verify report {args.out}`)"
            )
        except report.ResultsError as err:
            if count == 1:
                raise
            print(
                f"not merged here ({err}); "
                "collect every host's blocks/ and shards/ into one folder and run "
                "`ntk-verify report DIR`",
                file=sys.stderr,
            )
    return 0


def register(subparsers) -> None:
    """Add ``ntk-verify sweep`` to the subcommands."""
    p = subparsers.add_parser(
        "sweep",
        help="widths x seeds training sweep, compiled once, resumable, sharded",
        description=(
            "Train every width from every seed in one compiled program (whole runs laid out over "
            "the devices); each finished block is saved in DIR/blocks, a rerun computes only what "
            "is missing, and DIR/sweep.npz holds the merged arrays (width x seed x recorded step)."
        ),
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="configuration with [run], [data], [sweep] (default: built in)",
    )
    add_data_option(p)
    p.add_argument(
        "--out",
        default="sweep",
        metavar="DIR",
        help="sweep folder (default: sweep/); reused to resume",
    )
    p.add_argument(
        "--widths",
        metavar="64,256,1024",
        help="widths, strictly increasing (overrides [sweep] widths)",
    )
    p.add_argument(
        "--seeds", type=int, metavar="N", help="number of network seeds (overrides [sweep] seeds)"
    )
    p.add_argument(
        "--steps", type=int, metavar="T", help="gradient-descent steps (overrides [sweep] steps)"
    )
    p.add_argument("--record-every", type=int, metavar="K", help="record every K steps")
    p.add_argument(
        "--learning-rate",
        type=float,
        metavar="ETA",
        help="step size η itself (overrides [sweep] eta, eta_mode = 'absolute')",
    )
    p.add_argument("--seeds-per-block", type=int, metavar="B", help="seeds per saved block")
    p.add_argument("--dtype", choices=("float64", "float32"), help="computation dtype")
    p.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() (several hosts)",
    )
    p.add_argument(
        "--coordinator-address",
        metavar="HOST:PORT",
        help="with --distributed (else from the environment)",
    )
    p.add_argument(
        "--num-processes",
        type=int,
        metavar="P",
        help="with --distributed (else from the environment)",
    )
    p.add_argument(
        "--process-id", type=int, metavar="I", help="with --distributed (else from the environment)"
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=hosts.CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=(
            "with --distributed: seconds every process has to join; "
            "then one line naming the coordinator "
            f"and the process ids missing, exit {hosts.CONNECT_EXIT} "
            f"(default {hosts.CONNECT_TIMEOUT:g})"
        ),
    )
    p.add_argument(
        "--block-timeout",
        type=float,
        default=BLOCK_TIMEOUT,
        metavar="SECONDS",
        help=(
            "watchdog: a block (compilation included) not finished within SECONDS is reported "
            f"on stderr and the process exits with status {TIMEOUT_EXIT}, finished blocks kept "
            f"(default {BLOCK_TIMEOUT:g}; 0: no watchdog)"
        ),
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="DIR holds a sweep of another configuration: delete its blocks and run this one there",
    )
    p.add_argument("--quiet", action="store_true", help="no line per block")
    p.set_defaults(func=_cmd_sweep)
