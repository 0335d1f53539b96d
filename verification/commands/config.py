"""``ntk-verify config``: print the default configuration as TOML, or check a file."""

from __future__ import annotations

from verification import config as cfg
from verification import pipeline
from verification.commands._shared import add_plugin_option, load_plugins

__all__ = ["register"]


def _cmd_config(args) -> int:
    load_plugins(args.plugin)
    if args.check:
        try:
            config = cfg.load(args.check)
        except cfg.ConfigError as err:  # cfg.load names --config, the flag of `run`
            text = str(err)
            raise cfg.ConfigError(
                "--check" + text[len("--config") :] if text.startswith("--config") else text
            ) from None
        pipeline.check_memory(config, pipeline.selected_claims(config))  # the same refusal as `run`
        print(f"{args.check}: valid")
        return 0
    print(cfg.to_toml(cfg.default_config()), end="")
    return 0


def register(sub) -> None:
    p = sub.add_parser("config", help="print the default configuration as TOML, or check a file")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--default", action="store_true", help="print the built-in configuration (TOML, commented)"
    )
    g.add_argument("--check", metavar="FILE.toml", help="validate a configuration file")
    add_plugin_option(p)
    p.set_defaults(func=_cmd_config)
