"""transcribe-guard rules: AWS Config custom rules (rdklib) for Amazon Transcribe.

``rules.registry.RULES`` lists every rule; each rule module carries its METADATA record, its
rule class and its Lambda ``lambda_handler``.
"""
