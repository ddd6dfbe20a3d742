"""Layout rules that `make lint` checks: at most 12 modules directly in core/, none over 500 lines.

Past those sizes a folder stops telling a newcomer where a concept lives; split by concept then.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_TOP_LEVEL = 12
MAX_LINES = 500


def main() -> int:
    problems = []
    top = sorted(p.name for p in (ROOT / "core").glob("*.py"))
    if len(top) > MAX_TOP_LEVEL:
        problems.append(f"core/ has {len(top)} modules directly in it (at most {MAX_TOP_LEVEL}): "
                        + ", ".join(top))
    for folder in ("core", "celae_gui", "scripts", "packaging"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES:
                problems.append(f"{path.relative_to(ROOT)}: {n} lines (at most {MAX_LINES})")
    for line in problems:
        print(f"layout: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
