"""What an NLU component reads from outside the training data, in its fingerprint.

Rasa reuses a component's trained output from its cache while the component's config and the data it
is given are unchanged (``rasa train`` on the same data). A component that reads a file named in its
config (the gazetteer, the crisis classifier) must say when that file's content changed, or a new
model would keep the old names: ``fingerprint_addon`` returns this.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional, Text


def file_fingerprint(path: Optional[Text]) -> Optional[Text]:
    """The SHA-256 of the file's content; None when there is no such file (creating the component
    then says what is missing)."""
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
