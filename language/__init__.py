"""Pure text handling shared by both venvs: normalisation (language/normalise.py)."""
