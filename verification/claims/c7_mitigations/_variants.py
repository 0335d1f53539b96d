r"""C7's six variants: the model configuration and optimizer setting of each (:func:`variant_setup`)
and the optimizer family that selects gradient descent, GD with decoupled weight decay or Adam by
numbers (:func:`optimizer_family`), so the optimizers of one architecture train in one program."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from ntk_attention import multidim as md
from verification.contract import StepSize

VARIANTS = ("vanilla", "differential", "rope", "patching", "adam", "weight_decay")
"""The trained variants; the first is the baseline."""


class OptimizerSetting(NamedTuple):
    """Numbers selecting one member of :func:`optimizer_family` (scalars, or arrays under vmap)."""

    gd_lr: float
    adam_lr: float
    weight_decay: float
    adam: bool


def optimizer_family(setting: OptimizerSetting) -> optax.GradientTransformation:
    r"""Gradient descent, GD with decoupled weight decay, and Adam as one transformation.

    Update :math:`-\eta_{\mathrm{Adam}}\, \hat m/(\sqrt{\hat v}+\epsilon)` (optax's
    ``scale_by_adam``) when ``setting.adam``, else :math:`-\eta(g + \mathrm{wd}\,\theta)`: with
    ``weight_decay = 0`` plain GD. The selection is by numbers, so the three optimizers of one
    architecture train in one compiled, vmapped program (equal to ``optax.sgd``,
    ``chain(add_decayed_weights, sgd)`` and ``optax.adam``; tested).
    """
    adam = optax.scale_by_adam()

    def update(grads, state, params):
        direction, state = adam.update(grads, state, params)
        upd = jax.tree.map(
            lambda g, a, p: jnp.where(
                setting.adam, -setting.adam_lr * a, -setting.gd_lr * (g + setting.weight_decay * p)
            ),
            grads,
            direction,
            params,
        )
        return upd, state

    return optax.GradientTransformation(adam.init, update)


def variant_setup(name: str, section: dict) -> tuple[md.ModelConfig, OptimizerSetting]:
    """Model configuration and optimizer setting of one variant (:data:`VARIANTS`) from the C7
    section."""
    base = md.ModelConfig(
        heads=section["heads"], key_dim=section["key_dim"], lambda_init=section["lambda_init"]
    )
    gd = OptimizerSetting(StepSize.of(section).resolve(), section["adam_lr"], 0.0, False)
    if name == "vanilla":
        return base, gd
    if name == "differential":
        return base._replace(kind="differential"), gd
    if name == "rope":
        return base._replace(rope=True, rope_base=section["rope_base"]), gd
    if name == "patching":
        return base._replace(patch_len=section["patch_len"], stride=section["patch_stride"]), gd
    if name == "adam":
        return base, gd._replace(adam=True)
    if name == "weight_decay":
        return base, gd._replace(weight_decay=section["weight_decay"])
    raise ValueError(f"name: expected one of {VARIANTS}, got {name!r}")


def _variants_list(v):
    """``[C7] variants``: distinct names of :data:`VARIANTS`, at least two, starting with
    'vanilla'."""
    if not isinstance(v, (list, tuple)) or len(v) < 2 or v[0] != "vanilla":
        raise TypeError
    if any(x not in VARIANTS for x in v) or len(set(v)) != len(v):
        raise ValueError
    return list(v)
