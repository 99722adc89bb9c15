"""The estate's SNS topic and SQS queues, on a local moto server (started once per test worker
by the `aws_endpoint` fixture), and HMPPS domain events shaped exactly as the estate publishes
them (`ministryofjustice/hmpps-domain-events`, spec/auto/...).

Publishing goes through the topic, as the estate does, so what reaches the queue is the SNS
notification envelope whose `Message` is the event's JSON."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.api import Api

REGION = "eu-west-2"
RECEIVED = "prisoner-offender-search.prisoner.received"
RELEASED = "prisoner-offender-search.prisoner.released"
UPDATED = "prisoner-offender-search.prisoner.updated"
MERGED = "prison-offender-events.prisoner.merged"
PRISONER_SEARCH = "https://prisoner-search-dev.prison.service.justice.gov.uk/prisoner"


def aws_client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@dataclass(frozen=True)
class Estate:
    """One test's topic, its queue subscribed to it (filtered by eventType, as the estate's
    are) and the queue's dead-letter queue."""

    endpoint: str
    topic_arn: str
    queue_url: str
    dead_letter_queue_url: str

    @property
    def sqs(self) -> Any:
        return aws_client(self.endpoint, "sqs")

    @property
    def sns(self) -> Any:
        return aws_client(self.endpoint, "sns")

    def settings(self) -> dict[str, str]:
        """The TAC_* environment for a service that consumes this queue and publishes to the
        topic."""
        return {
            "TAC_AWS_ENDPOINT_URL": self.endpoint,
            "TAC_AWS_REGION": REGION,
            "TAC_EVENTS_QUEUE_URL": self.queue_url,
            "TAC_EVENTS_DEAD_LETTER_QUEUE_URL": self.dead_letter_queue_url,
            "TAC_EVENTS_TOPIC_ARN": self.topic_arn,
        }

    def publish(self, message: dict[str, Any]) -> None:
        """An event published to the topic as HMPPS services publish: its JSON as the message,
        its type as the `eventType` attribute the queues filter on."""
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(message),
            MessageAttributes={
                "eventType": {"DataType": "String", "StringValue": message["eventType"]}
            },
        )

    def publish_raw(self, body: str, event_type: str) -> None:
        """A message that is not an event's JSON (a malformed one)."""
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=body,
            MessageAttributes={"eventType": {"DataType": "String", "StringValue": event_type}},
        )

    def drain(self, queue_url: str, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Every message on a queue now, received and deleted: the SNS envelopes, parsed."""
        sqs, found = self.sqs, []
        while True:
            answer = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_seconds,
                MessageAttributeNames=["All"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def depth(self, queue_url: str) -> int:
        """Messages on a queue, waiting or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


def new_estate(
    endpoint: str,
    *,
    event_types: list[str] | None = None,
    max_receives: int = 3,
    visibility_seconds: int = 30,
) -> Estate:
    """A fresh topic, queue and dead-letter queue (unique names: tests never share one), the
    queue subscribed to the topic with raw delivery off (the SNS envelope arrives, as in the
    estate) and filtered to `event_types` (the four this service consumes, by default)."""
    name = f"tac-{uuid.uuid4().hex[:12]}"
    sqs, sns = aws_client(endpoint, "sqs"), aws_client(endpoint, "sns")
    topic_arn = sns.create_topic(Name=f"{name}-domain-events")["TopicArn"]
    dead_letters = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_letter_arn = _arn(sqs, dead_letters)
    queue = sqs.create_queue(
        QueueName=f"{name}-queue",
        Attributes={
            "VisibilityTimeout": str(visibility_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(max_receives)}
            ),
        },
    )["QueueUrl"]
    types = event_types or [RECEIVED, RELEASED, UPDATED, MERGED]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_arn(sqs, queue),
        Attributes={"FilterPolicy": json.dumps({"eventType": types})},
    )
    return Estate(endpoint, topic_arn, queue, dead_letters)


def _arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


# -- Events, as the estate publishes them -------------------------------------------------------


def _event(
    event_type: str,
    occurred_at: str,
    description: str,
    additional: dict[str, Any],
    noms: str,
    *,
    detail_url: bool = True,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "eventType": event_type,
        "version": 1,
        "description": description,
        "occurredAt": occurred_at,
        "additionalInformation": additional,
        "personReference": {"identifiers": [{"type": "NOMS", "value": noms}]},
    }
    if detail_url:
        message["detailUrl"] = f"{PRISONER_SEARCH}/{noms}"
    return message


def received(noms: str, prison_id: str, occurred_at: str, reason: str = "TRANSFERRED") -> dict:
    """`prisoner-offender-search.prisoner.received`: reason NEW_ADMISSION, READMISSION,
    TRANSFERRED, ... `occurredAt` as the estate writes it: an offset, nanoseconds
    (`2024-06-14T09:06:16.22603998+01:00`)."""
    additional = {"nomsNumber": noms, "reason": reason, "prisonId": prison_id}
    return _event(
        RECEIVED,
        occurred_at,
        f"A prisoner has been received into a prison with reason: {reason}",
        additional,
        noms,
    )


def released(noms: str, prison_id: str, occurred_at: str, reason: str = "RELEASED") -> dict:
    """`prisoner-offender-search.prisoner.released`: reason RELEASED, TRANSFERRED, ..."""
    additional = {"nomsNumber": noms, "reason": reason, "prisonId": prison_id}
    return _event(
        RELEASED,
        occurred_at,
        f"A prisoner has been released from a prison with reason: {reason}",
        additional,
        noms,
    )


def updated(noms: str, categories: list[str], occurred_at: str) -> dict:
    """`prisoner-offender-search.prisoner.updated`: `categoriesChanged` names what changed
    (STATUS, LOCATION, SENTENCE, ...), never the new values."""
    additional = {"nomsNumber": noms, "categoriesChanged": categories}
    return _event(UPDATED, occurred_at, "A prisoner record has been updated", additional, noms)


def merged(kept: str, removed: str, occurred_at: str, booking_id: str = "1216772") -> dict:
    """`prison-offender-events.prisoner.merged`: `removedNomsNumber` merged into `nomsNumber`.
    No detailUrl; a publishedAt beside occurredAt."""
    additional = {
        "bookingId": booking_id,
        "nomsNumber": kept,
        "reason": "MERGE",
        "removedNomsNumber": removed,
    }
    message = _event(
        MERGED,
        occurred_at,
        f"A prisoner has been merged from {removed} to {kept}",
        additional,
        kept,
        detail_url=False,
    )
    message["publishedAt"] = occurred_at
    return message


def notification(message: dict[str, Any], message_id: str | None = None) -> str:
    """An SQS message's body as the estate's queues receive an event (raw delivery off): the
    SNS notification whose `Message` is the event's JSON."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id or str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:eu-west-2:000000000000:domain-events",
            "Message": json.dumps(message),
            "Timestamp": "2026-12-06T11:00:00.000Z",
            "SignatureVersion": "1",
            "MessageAttributes": {
                "eventType": {"Type": "String", "Value": message["eventType"]},
            },
        }
    )


def deliver(api: Api, message: dict[str, Any] | str) -> Any:
    """An event (or a message's raw body) handed to what the queue's consumer calls for each
    message, on the app's database: its outcome (`events.service.Outcome`)."""
    from tac_api.events.service import handle_message

    body = message if isinstance(message, str) else notification(message)
    app = api.client.app  # type: ignore[attr-defined]
    return api.client.portal.call(handle_message, app.state.sessionmaker, body)  # type: ignore[union-attr]
