"""Simulator extensions for the account-level controls: VPC endpoints (EC2 paging and endpoint
states), the AWS Config recorder's status, and Organizations' effective AI services opt-out
policy. Each lives in its own module; ``install`` adds them all (idempotent)."""

from __future__ import annotations


def install() -> None:
    from transcribe_guard.simulator import config_recorder, ec2_endpoints, organizations

    config_recorder.install()
    ec2_endpoints.install()
    organizations.install()
