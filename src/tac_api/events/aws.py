"""The estate's queue and topic, through boto3: one client of each per process, made from the
settings. boto3 blocks, so the event loop calls it through `in_thread`."""

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from tac_api.config import Settings

T = TypeVar("T")


def client(settings: Settings, service: str, *, quick: float | None = None) -> Any:
    """An SQS or SNS client for the settings' region (and local endpoint, if any).

    Credentials come from boto3's chain (environment, web identity: the estate's IRSA role).
    A local endpoint (moto, LocalStack) takes any, so it gets fixed ones if none are set.
    Long polls wait up to 20 s: reads time out well after that, connections quickly.
    `quick`: a look that must not wait (/health): one attempt, connect and read in that long."""
    config = Config(
        region_name=settings.aws_region,
        connect_timeout=quick or 5,
        read_timeout=quick or settings.events_wait_seconds + 10,
        retries={"mode": "standard", "max_attempts": 1 if quick else 3},
    )
    session = boto3.session.Session()
    local: dict[str, str] = {}
    if settings.aws_endpoint_url and session.get_credentials() is None:
        local = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return session.client(
        service, endpoint_url=settings.aws_endpoint_url or None, config=config, **local
    )


async def in_thread(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """A boto3 call, off the event loop."""
    return await asyncio.to_thread(partial(call, *args, **kwargs))
