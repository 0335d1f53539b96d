"""``ntk-verify data``: statistics of the configured data
(:func:`verification.data._describe.data_statistics`)."""

from __future__ import annotations

import json
import sys

from verification import config as cfg
from verification.commands._shared import config_for_source, enable_x64
from verification.data._describe import data_statistics, format_statistics

__all__ = ["register"]


def _cmd_data(args) -> int:
    # a bad source names [data] source, as --source is spelt
    config = config_for_source(args.config, args.source)
    if not 1 <= args.width <= 65536:
        raise cfg.ConfigError(f"--width: expected an integer in [1, 65536], got {args.width}")
    enable_x64()
    stats = data_statistics(config, width=args.width)
    if args.json:
        print(json.dumps(stats, allow_nan=False))
    else:
        print(format_statistics(stats))
    sys.stdout.flush()
    return 0


def register(sub) -> None:
    """Add ``ntk-verify data`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "data",
        help="statistics of the configured data (lag-1, corr(y, x_d), data term, lambda_min)",
        description="For the configured window length d and n: the source's length, lag-1 "
        "autocorrelation, corr(y, x_d), sign-consistent fraction, data-term fraction at t = 0, "
        "v_min, B, D and lambda_min(H*) with its resolution (docs/data.md).",
    )
    p.add_argument("--config", metavar="FILE.toml", help="configuration (default: built in)")
    p.add_argument(
        "--source",
        "--data",
        dest="source",
        metavar="S",
        help="data source (overrides [data] source): a family, a real series, "
        "csv:PATH[#COLUMN] or npy:PATH",
    )
    p.add_argument(
        "--width",
        type=int,
        default=256,
        help="network width for the data-term fraction (default 256)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    p.set_defaults(func=_cmd_data)
