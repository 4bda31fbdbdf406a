"""Policy and pattern evaluation: the IAM policy evaluator (evaluation), the probes that ask it
what identity policies (iam_probe) and bucket and key policies (resource_policy_probe) would
decide, and the EventBridge event patterns (event_pattern) and CloudWatch Logs metric filter
patterns (filter_pattern) the monitoring rule matches.

Deliberately empty: import the module you need, so no package import pulls in the others.
"""
