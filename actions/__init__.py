"""Custom actions of the assistant (rasa-sdk action server), one module per capability:
forms (validation), booking, services, statistics, complaints, safety (crisis, handoff, medical,
clarify); render holds the wording of figures and their sources."""
