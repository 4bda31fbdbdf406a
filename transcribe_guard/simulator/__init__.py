"""The simulated AWS account: moto plus this project's extensions (a full Transcribe, stored
Config evaluations, request-aware S3 bucket policies).

In-process::

    with Simulator(seed="demo") as sim:   # boto3 clients created inside talk to the simulator
        ...

As a server (what ``transcribe-guard simulate`` runs)::

    server = SimulatorServer(port=0, seed="demo").start()
    server.url  # http://127.0.0.1:PORT, for AWS_ENDPOINT_URL
"""

from __future__ import annotations

import os
from typing import Any, Callable

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"

_installed = False


def install() -> None:
    """Route moto's Transcribe to the simulated one and add the Config and S3 extensions.
    Idempotent; must run before the first request is served."""
    global _installed
    if _installed:
        return
    import moto.transcribe.models as moto_transcribe_models
    import moto.transcribe.urls as moto_transcribe_urls

    from transcribe_guard.simulator import config, conformance, kms, s3, sdk_data, serving
    sdk_data.install()  # one botocore data loader for every session; no moto default AMIs
    from transcribe_guard.simulator.transcribe import LANE_URL, TranscribeSimResponse, transcribe_sim_backends

    # moto resets (and the server's reset API clears) the BackendDict it finds here.
    moto_transcribe_models.transcribe_backends = transcribe_sim_backends
    for path in list(moto_transcribe_urls.url_paths):
        moto_transcribe_urls.url_paths[path] = TranscribeSimResponse.dispatch
    serving.install()  # per-request introspection cached
    serving.add_lane(LANE_URL, TranscribeSimResponse.answer_in_process)
    config.install()
    conformance.install()
    from transcribe_guard.simulator import organization_config  # organization packs, aggregator reads
    organization_config.install()
    from transcribe_guard.simulator import stacksets  # service-managed targets as AWS picks them
    stacksets.install()
    kms.install()
    s3.install()
    from transcribe_guard.simulator import monitoring  # CloudTrail selectors, Logs and CloudWatch paging
    monitoring.install()
    from transcribe_guard.simulator import account_controls  # VPC endpoints, Config recorder, Organizations
    account_controls.install()
    __import__("transcribe_guard.simulator.s3_defaults", fromlist=["install"]).install()  # SSE-S3 baseline, owner check
    __import__("transcribe_guard.simulator.faults", fromlist=["install"]).install()  # fault injection hooks
    from transcribe_guard.simulator import lambda_code
    lambda_code.install()  # S3ObjectVersion of a function's code; AWS::Lambda::EventInvokeConfig in stacks
    from transcribe_guard.simulator import clock, cloudtrail_events
    clock.install()  # the simulated clock goes back to real time when moto resets
    cloudtrail_events.install()  # CloudTrail LookupEvents over recorded Transcribe write calls
    from transcribe_guard.simulator import eventbridge
    eventbridge.install()  # the event trigger keeps the simulated time
    from transcribe_guard.simulator import service_quotas
    service_quotas.install()  # ListServiceQuotas for Transcribe; raised quotas the simulated Transcribe enforces
    from transcribe_guard.simulator import security_hub
    security_hub.install()  # BatchImportFindings checks and updates by Id, GetFindings filters
    # Transcribe TPS quotas and latency (throughput.py) and bulk seeding (bulk.py) need no
    # installing: the simulated Transcribe's handlers call throughput.admit on every request.
    _installed = True


def transcribe_backend(account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> Any:
    """The simulated Transcribe of one account and region (for test controls like hold_jobs)."""
    from transcribe_guard.simulator.transcribe import transcribe_sim_backends
    return transcribe_sim_backends[account][region]


def seed_account(seed: str, session_factory: Callable[..., Any]) -> None:
    """Build the seed's account. moto draws every generated id (role and user ids, VPC ids, KMS key
    ids) from one random source; seeding it first makes a seed build the same account every time,
    in-process and under ``transcribe-guard simulate`` alike, so their scans can be compared row for row."""
    from moto.moto_api._internal import mock_random

    from transcribe_guard.simulator.seeds import SEEDS
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; choose one of: {', '.join(sorted(SEEDS))}")
    mock_random.seed(f"transcribe-guard:{seed}")
    clients: dict[tuple[Any, ...], Any] = {}

    def client(service: str, region: str | None = None) -> Any:  # one client a service and Region for the seed
        key = (service, region)
        if key not in clients:
            clients[key] = session_factory(service, region) if region else session_factory(service)
        return clients[key]
    SEEDS[seed](client)


class Simulator:
    """An in-process simulated account for the duration of a ``with`` block."""

    def __init__(self, seed: str = "empty", region: str = DEFAULT_REGION):
        self.seed = seed
        self.region = region
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> "Simulator":
        install()
        from moto import mock_aws
        # Clients must not reach a real endpoint or a user's AWS_ENDPOINT_URL while simulated.
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            self._saved_env[name] = os.environ.pop(name, None)
        self._saved_env["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION")
        os.environ["AWS_DEFAULT_REGION"] = self.region
        self._mock = mock_aws()
        self._mock.start()
        seed_account(self.seed, self.client)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mock.stop()
        from transcribe_guard.simulator import clock
        clock.reset()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3
        return boto3.client(service, region_name=region or self.region)

    @property
    def transcribe(self) -> Any:
        return transcribe_backend(DEFAULT_ACCOUNT, self.region)


class SimulatorServer:
    """The simulator served over HTTP on loopback (moto's threaded server)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: str = "empty", region: str = DEFAULT_REGION):
        self.host, self.port, self.seed, self.region = host, port, seed, region
        self._server: Any = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "SimulatorServer":
        install()
        from moto.server import ThreadedMotoServer
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        from transcribe_guard.simulator import conformance
        conformance.SERVING["endpoint_url"] = self.url  # rule handlers it runs call back into it
        seed_account(self.seed, self.client)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            from transcribe_guard.simulator import conformance
            if conformance.SERVING["endpoint_url"] == self.url:  # a later in-process Simulator runs handlers in-process
                conformance.SERVING["endpoint_url"] = None

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
