"""The run engine every rule stands on: the rule base classes and run context (base), incremental
runs over Transcribe resources (incremental) with their checkpoints (checkpoint), request pacing
(pacing), InputParameters parsing (parameters), text that cannot forge a finding (safe_text) and
logging that cannot leak what the rules guard (logs).

Deliberately empty: import the module you need, so no package import pulls in the others.
"""
