"""``autocurriculum`` and ``python -m autocurriculum``: the command line, or one line saying which extra it needs.

The core install is NumPy only; the command line runs the testbed, so it lives in the ``cli`` extra.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from autocurriculum.cli import main as cli_main
    except ImportError as exc:
        missing = exc.name or str(exc)
        print(
            f"error: the autocurriculum command needs its extra ({missing} is not installed): "
            "pip install 'autocurriculum[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    cli_main()


if __name__ == "__main__":
    main()
