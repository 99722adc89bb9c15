"""A typed client for tac-api's local authority sync endpoints, sync and async.

from tac_api.client import TacSyncClient

with TacSyncClient("https://tac.example.org", token) as tac:
    result, child = tac.put_child("BR-1001", {...})
    answer = tac.batch_children([...])            # up to 1,000, a result per item
    for event in tac.iter_changes(after=saved):   # the change feed, until caught up
        ...
"""

from tac_api.client.clients import AsyncTacSyncClient, TacSyncClient
from tac_api.client.core import UNSET, RetryPolicy, SyncBatchAnswer, Synced, SyncResult
from tac_api.client.errors import (
    ApiProblem,
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotAllowed,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    TacApiError,
    UnexpectedAnswer,
)
from tac_api.client.signatures import SIGNATURE_HEADER, signature_header, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "UNSET",
    "ApiProblem",
    "AsyncTacSyncClient",
    "AuthenticationFailed",
    "Conflict",
    "ConnectionFailed",
    "InvalidRequest",
    "NotAllowed",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SyncBatchAnswer",
    "SyncResult",
    "Synced",
    "TacApiError",
    "TacSyncClient",
    "UnexpectedAnswer",
    "signature_header",
    "verify_signature",
]
