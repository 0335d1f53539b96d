"""Configuration of ``ntk-verify``: TOML sections, typed fields with defaults, strict validation.

A configuration is a dict of sections: ``[run]`` (seed, which claims), ``[data]`` (the state-space
data every claim trains on) and one section per registered claim (``[C1]`` …), whose fields the
claim declares (:attr:`verification.contract.Claim.params`). :func:`validate` fills defaults and
refuses unknown keys, wrong types and impossible values with a :class:`ConfigError` whose message
is **one line** naming the key, the allowed values and what came. Private modules behind this
front: ``_fields`` (the field types), ``_sections`` (``[run]``, ``[data]``, ``[sweep]``),
``_schema`` (a configuration as a whole, TOML).

>>> f = positive_int(3, "number of seeds")
>>> f.parse("C1.seeds", 5)
5
"""

from verification.config._fields import ConfigError as ConfigError
from verification.config._fields import Field as Field
from verification.config._fields import boolean as boolean
from verification.config._fields import choice as choice
from verification.config._fields import float_list as float_list
from verification.config._fields import int_list as int_list
from verification.config._fields import nonneg_float as nonneg_float
from verification.config._fields import nonneg_int as nonneg_int
from verification.config._fields import positive_float as positive_float
from verification.config._fields import positive_int as positive_int
from verification.config._fields import probability as probability
from verification.config._schema import REGISTERED as REGISTERED
from verification.config._schema import default_config as default_config
from verification.config._schema import load as load
from verification.config._schema import loads as loads
from verification.config._schema import schema as schema
from verification.config._schema import to_toml as to_toml
from verification.config._schema import validate as validate
from verification.config._sections import DATA_FIELDS as DATA_FIELDS
from verification.config._sections import EXTRA_SECTIONS as EXTRA_SECTIONS
from verification.config._sections import HAAR_STATE_DIM as HAAR_STATE_DIM
from verification.config._sections import MAP_CLAIMS as MAP_CLAIMS
from verification.config._sections import RUN_FIELDS as RUN_FIELDS
from verification.config._sections import SWEEP_FIELDS as SWEEP_FIELDS
from verification.config._sections import data_source as data_source

__all__ = [
    "ConfigError",
    "Field",
    "positive_int",
    "nonneg_int",
    "positive_float",
    "nonneg_float",
    "probability",
    "choice",
    "boolean",
    "int_list",
    "float_list",
    "RUN_FIELDS",
    "MAP_CLAIMS",
    "DATA_FIELDS",
    "HAAR_STATE_DIM",
    "data_source",
    "EXTRA_SECTIONS",
    "SWEEP_FIELDS",
    "schema",
    "default_config",
    "validate",
    "load",
    "loads",
    "to_toml",
    "REGISTERED",
]
