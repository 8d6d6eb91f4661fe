"""Custom actions of the assistant (rasa-sdk action server), one module per capability:
forms (validation), safety (crisis, handoff, medical, clarify); answers from the store come with
their issue."""
