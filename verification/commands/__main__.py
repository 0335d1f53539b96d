"""``python -m verification.commands ARGS`` is ``ntk-verify ARGS``."""

import sys

from verification.commands import main

sys.exit(main(sys.argv[1:]))
