"""The driver the documentation generators share: write the generated text, or with ``--check``
compare it with the committed file (exit 1 when they differ)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, *, check: bool, prog: str, command: str) -> int:
    """``check``: 0 when ``out`` holds exactly ``text``, else 1 with one line on stderr naming
    ``command`` to regenerate it; otherwise write ``text`` to ``out`` and return 0."""
    out = Path(out)
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current != text:
            print(f"{prog}: {out} is out of date; run: {command}", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0
