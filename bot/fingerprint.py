"""What an NLU component reads from outside the training data, in its fingerprint.

Rasa reuses a component's trained output from its cache while the component's config and the data it
is given are unchanged (``rasa train`` on the same data). A component that reads a file named in its
config (the gazetteer, the crisis classifier) must say when that file's content changed, or a new
model would keep the old names: ``fingerprint_addon`` returns this. The same holds for our own code:
Rasa's cache knows a component by its class name and config, so a changed rule (safety/crisis.py) or
training step (bot/diet.py) would be trained over with the cached output of the old code unless the
code is in the fingerprint too (``source_fingerprint``).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from functools import lru_cache
from typing import Any, Dict, Optional, Text

ROOT = Path(__file__).resolve().parent.parent
# The code our NLU components run (the Makefile retrains on the same files: TRAINING_FILES).
SOURCE_DIRS = ("bot", "safety", "language")


def file_fingerprint(path: Optional[Text]) -> Optional[Text]:
    """The SHA-256 of the file's content; None when there is no such file (creating the component
    then says what is missing)."""
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def source_fingerprint() -> Text:
    """The SHA-256 of the Python sources our components run, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(p for d in SOURCE_DIRS for p in (ROOT / d).glob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(*parts: Optional[Text]) -> Text:
    """The sources' fingerprint with each file fingerprint given (None: no such file)."""
    return ":".join([source_fingerprint(), *(p or "-" for p in parts)])


class CodeFingerprinted:
    """For a component that reads no file of its own: our code is its fingerprint (listed before Rasa's
    base class, so that this ``fingerprint_addon`` is the one Rasa calls)."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        return fingerprint()
