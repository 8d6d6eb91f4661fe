"""Masking lives in knowledge.masking (the call log and reports use it too); re-exported for the actions."""
from knowledge.masking import mask_phone, mask_text

__all__ = ["mask_phone", "mask_text"]
