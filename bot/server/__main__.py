"""The Rasa server as the hotline runs it: ``python -m bot.server run ...`` is ``rasa run ...`` with one
repair made before Rasa starts (bot/server/validator.py). Everything else (arguments, exit status,
logging) is Rasa's own ``rasa`` command.
"""
from __future__ import annotations

import sys
from typing import List, Optional

from bot.server.validator import install


def main(argv: Optional[List[str]] = None) -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
