"""ntk-attention: the paper's two-layer attention, its NTKs, state-space data and training.

Pure functions of JAX arrays; nothing here prints, writes files or reads configuration.
"""

from ntk_attention import data, linear, linearized
from ntk_attention.model import (
    Moments,
    Params,
    attention_weights,
    default_chunk_size,
    forward,
    init_params,
    last_token_mass,
    mean_attention_mass,
    softmax_moments,
)
from ntk_attention.ntk import (
    InfiniteNTK,
    InfiniteNTKExtended,
    empirical_ntk,
    infinite_ntk,
    infinite_ntk_mp,
    jacobian,
    min_eigenvalue,
    window_variance,
)
from ntk_attention.train import Trajectory, train

__version__ = "0.1.0"

__all__ = [
    "Moments",
    "Params",
    "InfiniteNTK",
    "InfiniteNTKExtended",
    "Trajectory",
    "attention_weights",
    "data",
    "default_chunk_size",
    "empirical_ntk",
    "forward",
    "infinite_ntk",
    "infinite_ntk_mp",
    "init_params",
    "jacobian",
    "last_token_mass",
    "linear",
    "linearized",
    "mean_attention_mass",
    "min_eigenvalue",
    "softmax_moments",
    "train",
    "window_variance",
]
