"""transcribe-guard rules: AWS Config custom rules (rdklib) for Amazon Transcribe.

``rules.catalog.registry.RULES`` holds every rule, discovered from the ``transcribe_*`` modules here;
each rule module carries its METADATA record, its rule class and its Lambda ``lambda_handler``.
"""

from rules.engine.logs import guard_sdk_loggers

# Before any handler runs or any client is built: SDK DEBUG logs carry request and response
# bodies (tag values, object keys), which must never reach the function's logs.
guard_sdk_loggers()
