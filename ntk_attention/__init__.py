"""ntk-attention: the paper's two-layer attention, its NTKs, state-space data and training.

Pure functions of JAX arrays; nothing here prints, writes files or reads configuration.
"""

from ntk_attention import data, linear, linearized, stability
from ntk_attention.divergence import DivergenceReport, divergence_report
from ntk_attention.infinite import (
    InfiniteNTK,
    InfiniteNTKExtended,
    infinite_ntk,
    infinite_ntk_mp,
    window_variance,
)
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
from ntk_attention.ntk import empirical_ntk, jacobian, min_eigenvalue
from ntk_attention.stability import h0_lambda_max, lambda_max, max_learning_rate
from ntk_attention.train import Trajectory, train

__version__ = "0.1.0"

__all__ = [
    "Moments",
    "Params",
    "DivergenceReport",
    "InfiniteNTK",
    "InfiniteNTKExtended",
    "Trajectory",
    "attention_weights",
    "data",
    "default_chunk_size",
    "divergence_report",
    "empirical_ntk",
    "forward",
    "h0_lambda_max",
    "infinite_ntk",
    "infinite_ntk_mp",
    "init_params",
    "jacobian",
    "lambda_max",
    "last_token_mass",
    "linear",
    "linearized",
    "max_learning_rate",
    "mean_attention_mass",
    "min_eigenvalue",
    "softmax_moments",
    "stability",
    "train",
    "window_variance",
]
