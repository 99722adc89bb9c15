"""Prison events in: this service's SQS queue, read with long polling, each message handed to a
handler (`tac_api.events.service.handle_message`, or a test's own).

A message handled is deleted. A message whose handling fails (anything raised, a malformed event
as much as a database that is down) is left on the queue to be received again after
TAC_EVENTS_RETRY_SECONDS; the queue's redrive policy moves it to the dead-letter queue once it
has been received TAC_EVENTS_MAX_RECEIVES times, and the rest of the queue goes on meanwhile.
Delivery is at least once (a message handled but not yet deleted when the process stops comes
again), so the handler makes a second delivery harmless.

Nothing of a message's content is logged (it names a person): its SQS MessageId, how many times
it has been received and the class of what went wrong.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api.config import Settings
from tac_api.events import aws

log = logging.getLogger("tac_api.events")

# An SQS message's body -> what became of it (an outcome word: applied, duplicate, ...);
# raises when it could not be handled.
Handler = Callable[[str], Awaitable[str]]

BATCH = 10  # the most one receive returns
FAILED = "failed"  # the outcome counted for a message whose handling raised
# Short polling (TAC_EVENTS_WAIT_SECONDS=0) returns at once: an empty queue is asked again only
# after this pause, not in a tight loop.
EMPTY_PAUSE_SECONDS = 1.0


class QueueUnreachable(Exception):
    """The queue could not be read from or written to (down, unknown, no access). Said without
    the service's answer, whose text is not ours to log."""

    def __init__(self, error: Exception, what: str = "the prison events queue") -> None:
        self.reason = _reason(error)
        super().__init__(f"cannot reach {what} ({self.reason})")


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


def queue_url(settings: Settings) -> str:
    if not settings.events_queue_url:
        raise ValueError("TAC_EVENTS_QUEUE_URL is not set: there is no queue to consume")
    return settings.events_queue_url


def default_handler(sessionmaker: async_sessionmaker[AsyncSession]) -> Handler:
    """The service's own: each event applied to the case of the mother it names."""
    from functools import partial

    from tac_api.events.service import handle_message

    return partial(handle_message, sessionmaker)  # type: ignore[return-value]


def _outcome_word(outcome: Any) -> str:
    """An Outcome (an enum) or a plain word, as the word."""
    return str(getattr(outcome, "value", outcome))


def _log_failure(message: dict[str, Any], error: Exception, settings: Settings) -> None:
    receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
    last = receives >= settings.events_max_receives
    fields = {
        "sqs_message_id": message.get("MessageId"),
        "receive_count": receives,
        "error": type(error).__name__,
    }
    # The exception is logged as its class and stack, never its message (tac_api.logs): a
    # malformed event's, or a database error's, could quote the message's personal values.
    if last:
        log.error(
            "prison event message %s failed on receive %d of %d (%s): it goes to the "
            "dead-letter queue",
            fields["sqs_message_id"],
            receives,
            settings.events_max_receives,
            fields["error"],
            extra=fields,
            exc_info=error,
        )
    else:
        log.warning(
            "prison event message %s failed on receive %d of %d (%s): tried again in %d s",
            fields["sqs_message_id"],
            receives,
            settings.events_max_receives,
            fields["error"],
            settings.events_retry_seconds,
            extra=fields,
            exc_info=error,
        )


async def consume_once(sqs: Any, settings: Settings, handler: Handler) -> Counter[str]:
    """One pass: up to ten messages received (waiting up to TAC_EVENTS_WAIT_SECONDS for the
    first), handled one after another, the handled ones deleted and the failed ones left to come
    back after TAC_EVENTS_RETRY_SECONDS. Returns how many messages ended how (`failed` for those
    whose handling raised). Raises QueueUnreachable when the queue cannot be read."""
    url = queue_url(settings)
    try:
        answer = await aws.in_thread(
            sqs.receive_message,
            QueueUrl=url,
            MaxNumberOfMessages=BATCH,
            WaitTimeSeconds=settings.events_wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueUnreachable(exc) from exc
    messages: list[dict[str, Any]] = answer.get("Messages", [])
    outcomes: Counter[str] = Counter()
    handled: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    # One after another, never at once: a batch can hold several events about one person, and
    # the handler orders them by when they happened, each against what the last one left.
    for message in messages:
        try:
            outcome = await handler(message["Body"])
        except Exception as exc:
            _log_failure(message, exc, settings)
            failed.append(message)
            outcomes[FAILED] += 1
        else:
            handled.append(message)
            outcomes[_outcome_word(outcome)] += 1
    await _settle(sqs, url, settings, handled, failed)
    return outcomes


async def _settle(
    sqs: Any,
    url: str,
    settings: Settings,
    handled: list[dict[str, Any]],
    failed: list[dict[str, Any]],
) -> None:
    """The handled messages deleted; the failed ones visible again after the retry interval.
    Should either call fail, the messages simply come back: a handled one is handled again
    (harmlessly), a failed one after the queue's own visibility timeout."""
    try:
        if handled:
            answer = await aws.in_thread(
                sqs.delete_message_batch,
                QueueUrl=url,
                Entries=[
                    {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                    for number, message in enumerate(handled)
                ],
            )
            _log_refused("deleted", handled, answer)
        if failed:
            answer = await aws.in_thread(
                sqs.change_message_visibility_batch,
                QueueUrl=url,
                Entries=[
                    {
                        "Id": str(number),
                        "ReceiptHandle": message["ReceiptHandle"],
                        "VisibilityTimeout": settings.events_retry_seconds,
                    }
                    for number, message in enumerate(failed)
                ],
            )
            _log_refused("given its retry time", failed, answer)
    except (BotoCoreError, ClientError) as exc:
        raise QueueUnreachable(exc) from exc


def _log_refused(what: str, messages: list[dict[str, Any]], answer: dict[str, Any]) -> None:
    for refused in answer.get("Failed", []):
        message = messages[int(refused["Id"])]
        log.warning(
            "prison event message %s could not be %s (%s): it comes back later",
            message.get("MessageId"),
            what,
            refused.get("Code"),
            extra={"sqs_message_id": message.get("MessageId"), "error": refused.get("Code")},
        )


def reconnect_delay(failures: int, settings: Settings) -> float:
    """The wait after `failures` passes in a row could not reach the queue: 1 s, doubling, up to
    TAC_EVENTS_RECONNECT_MAX_SECONDS."""
    return float(min(settings.events_reconnect_max_seconds, 2 ** min(failures - 1, 16)))


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    handler: Handler | None = None,
) -> None:
    """Consume until `stop` is set. A queue that cannot be reached is logged and tried again
    after a growing pause (TAC_EVENTS_RECONNECT_MAX_SECONDS at most); nothing stops the loop
    but `stop`. A long poll under way when `stop` is set is waited for (up to
    TAC_EVENTS_WAIT_SECONDS), and what it brought is handled before the loop ends."""
    url = queue_url(settings)
    handler = handler or default_handler(sessionmaker)
    sqs = aws.client(settings, "sqs")
    failures = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            outcomes = await consume_once(sqs, settings, handler)
        except QueueUnreachable as exc:
            failures += 1
            delay = reconnect_delay(failures, settings)
            log.warning(
                "%s; trying again in %g s",
                exc,
                delay,
                extra={"error": exc.reason, "queue": url.rsplit("/", 1)[-1], "failures": failures},
            )
            await _pause(stop, delay)
            continue
        except Exception:  # a fault of ours, not the queue's: logged, and the loop goes on
            failures += 1
            delay = reconnect_delay(failures, settings)
            log.exception("consuming prison events failed; trying again in %g s", delay)
            await _pause(stop, delay)
            continue
        if failures:
            log.info("the prison events queue is reachable again after %d failed passes", failures)
            failures = 0
        if not outcomes and time.monotonic() - started < EMPTY_PAUSE_SECONDS:
            await _pause(stop, EMPTY_PAUSE_SECONDS)


def create_queues(settings: Settings, topic_name: str, queue_name: str) -> dict[str, str]:
    """For development, on a local SQS and SNS (TAC_AWS_ENDPOINT_URL): the estate's topic, this
    service's queue subscribed to it (the SNS envelope delivered, not raw, and filtered to the
    four event types the service consumes, as the estate filters its queues) and the queue's
    dead-letter queue (after TAC_EVENTS_MAX_RECEIVES receives). Each is made only if missing.
    Returns the settings that point a service at them."""
    import json

    from tac_api.events.schemas import CONSUMED

    sqs, sns = aws.client(settings, "sqs"), aws.client(settings, "sns")

    def arn(url: str) -> str:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(answer["Attributes"]["QueueArn"])

    try:
        topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
        dead_letters = sqs.create_queue(QueueName=f"{queue_name}-dlq")["QueueUrl"]
        queue = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        queue_arn = arn(queue)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
        redrive = {
            "deadLetterTargetArn": arn(dead_letters),
            "maxReceiveCount": str(settings.events_max_receives),
        }
        # Set, not only created with: running it again brings an existing queue into line.
        sqs.set_queue_attributes(
            QueueUrl=queue,
            Attributes={"RedrivePolicy": json.dumps(redrive), "Policy": json.dumps(policy)},
        )
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"FilterPolicy": json.dumps({"eventType": sorted(CONSUMED)})},
            ReturnSubscriptionArn=True,
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueUnreachable(exc, "the SQS and SNS in TAC_AWS_ENDPOINT_URL") from exc
    return {
        "TAC_AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
        "TAC_AWS_REGION": settings.aws_region,
        "TAC_EVENTS_TOPIC_ARN": topic_arn,
        "TAC_EVENTS_QUEUE_URL": queue,
        "TAC_EVENTS_DEAD_LETTER_QUEUE_URL": dead_letters,
        "TAC_EVENTS_MAX_RECEIVES": str(settings.events_max_receives),
    }
