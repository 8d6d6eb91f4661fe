"""The Rasa server as the hotline runs it: ``python -m bot.server run ...`` is ``rasa run ...`` with one
repair made before Rasa starts (bot/server/validator.py). Everything else (arguments, exit status,
logging) is Rasa's own ``rasa`` command.
"""
from __future__ import annotations

import sys
from typing import List, Optional

from bot.server.validator import install


def _quiet_warnings() -> None:
    """Rasa warns (warnings.warn, not a logger rasa-logging.yml could silence) about a message
    starting with "/" it cannot read as an intent, quoting the message: what a resident typed."""
    import warnings

    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if "Failed to parse arguments in line" not in str(message):
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning


def main(argv: Optional[List[str]] = None) -> None:
    install()
    _quiet_warnings()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
