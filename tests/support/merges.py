"""NOMIS merges applied as the estate's queue delivers them: the SNS notification of a
`prison-offender-events.prisoner.merged` event, parsed, and applied in a session of the app's."""

import json
import uuid
from typing import Any

from tac_api.events.merge import apply_merge
from tac_api.events.schemas import Delivered, parse_message
from tests.support.api import Api
from tests.support.events import merged

OCCURRED_AT = "2026-11-02T10:15:07.624796498Z"


def notification(message: dict[str, Any]) -> str:
    """An SQS message's body as the estate's queues receive it: the SNS envelope."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:eu-west-2:000000000000:domain-events",
            "Message": json.dumps(message),
            "Timestamp": "2026-11-02T10:15:08.000Z",
            "MessageAttributes": {"eventType": {"Type": "String", "Value": message["eventType"]}},
        }
    )


def merge_delivered(kept: str, removed: str, occurred_at: str = OCCURRED_AT) -> Delivered:
    return parse_message(notification(merged(kept, removed, occurred_at)))


def apply(api: Api, delivered: Delivered) -> uuid.UUID | None:
    """`apply_merge` in its own committed transaction, as the consumer would."""

    async def run() -> uuid.UUID | None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            return await apply_merge(session, delivered)

    return api.client.portal.call(run)  # type: ignore[union-attr]


def merge(api: Api, kept: str, removed: str) -> uuid.UUID | None:
    """`removed` merged into `kept`, delivered and applied."""
    return apply(api, merge_delivered(kept, removed))
