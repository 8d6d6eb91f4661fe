"""The repair ``python -m bot.server`` makes before Rasa starts: the action-answer check built once.

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate(answer, schema)``
(``RemoteAction._validate_action_result``). That call first checks the schema itself against the
JSON Schema meta-schema and builds a new validator, each time: about 28 ms of CPU per custom action
on this machine, nearly half of the Rasa server's time per message under load (bench/README.md,
``make loadtest``). ``install()`` makes the same check with one validator built once (about 1.5 ms):
the same schema, the same errors, the same message on a bad answer.

Everything else (arguments, exit status, logging) is Rasa's own ``rasa`` command.
"""
from __future__ import annotations

from typing import Any, Dict

_INSTALLED = "_hotline_cached_validator"


def _response_validator():
    """A validator of Rasa's action-response schema, the schema checked once (as jsonschema.validate does)."""
    from jsonschema.validators import validator_for

    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def install() -> None:
    """Swap RemoteAction's per-call validation for one with a validator built once (idempotent)."""
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, _INSTALLED, False):
        return
    original = RemoteAction._validate_action_result
    validator = _response_validator()

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        # As jsonschema.validate(result, schema) would find it, with the validator built once.
        if validator.is_valid(result):
            return True
        return original(self, result)  # a bad answer: Rasa's own check raises its own error

    setattr(_validate_action_result, _INSTALLED, True)
    RemoteAction._validate_action_result = _validate_action_result
