"""NOMIS merges (`prison-offender-events.prisoner.merged`): the record under `removedNomsNumber`
was merged into the one under `nomsNumber`, which NOMIS keeps.

Whatever the service holds under the removed number moves to the kept one, and the removed
number stays as an alias of hers (`PrisonNumberAlias`), so that every lookup by prison number
(`mothers.service.mother_named`) still finds her by it. Where both numbers already have a case,
two records may be one woman's or two women's: that is a person's decision, so nothing moves
and both records are flagged for review.

Only what needs a person is flagged. A merge into a number the service does not hold is the
same woman under her new number: her record, her referrals and the authorities' pending link
requests move without anyone's review. Her children's authorities are not told
(`changes.emit`): they read her through `MotherMinimal`, which holds no prison number, and the
number they push her children under still finds her.

A transfer summary keeps the number she had when she left: it is a copy of her case as it stood,
never changed (`transfers.models.TransferSummary`). The audit trail names ids, not numbers.
"""

import uuid

from sqlalchemy import Select, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.db import REQUEST_ID, touch, utcnow
from tac_api.events.schemas import EVENT_SOURCE, Delivered, MalformedEvent
from tac_api.flags.service import raise_by_event
from tac_api.link_requests.models import LinkRequest
from tac_api.mothers.models import Mother, PrisonNumberAlias
from tac_api.mothers.service import mother_named
from tac_api.referrals.models import Referral

# Resolving, then locking, then resolving again: a merge committed in between (which the lock
# waited for) may have moved a number; a third disagreement is not settling, and the message is
# tried again later.
_ATTEMPTS = 3


async def apply_merge(session: AsyncSession, delivered: Delivered) -> uuid.UUID | None:
    """Apply a merge in the caller's transaction: the id of the mother it concerns (the kept
    number's, where both have a case), or None when neither number names anyone the service
    holds. Applying it again changes nothing. Audited as the event source."""
    kept = delivered.event.noms_number
    removed = delivered.event.additional_information.removed_noms_number
    if kept is None or removed is None:
        raise MalformedEvent("A merge names both numbers: nomsNumber and removedNomsNumber.")
    if kept == removed:
        return await session.scalar(select(mother_named(kept)))
    removed_hers, kept_hers = await _locked(session, removed, kept)
    if removed_hers is None and kept_hers is None:
        mother_id = None
        await _repoint(session, removed, kept, None)
    elif removed_hers is not None and kept_hers is None:
        mother_id = await _move_her(session, removed_hers, removed, kept)
    elif removed_hers is None and kept_hers is not None:
        mother_id = kept_hers.id
        await _keep_alias(session, kept_hers, removed)
        await _repoint(session, removed, kept_hers.prison_number, kept_hers.id)
    elif removed_hers is kept_hers:
        assert kept_hers is not None
        mother_id = kept_hers.id
        await _already_merged(session, kept_hers, removed, kept)
    else:
        assert removed_hers is not None and kept_hers is not None
        mother_id = kept_hers.id
        await _both_have_cases(session, removed_hers, kept_hers, removed, kept)
    await audit.write_pending_as(session, EVENT_SOURCE, _request_id(session, delivered))
    return mother_id


async def _locked(
    session: AsyncSession, removed: str, kept: str
) -> tuple[Mother | None, Mother | None]:
    """The mothers each number names (her own number or an alias), their rows locked in id
    order: two merges of the same records wait for each other, and never deadlock."""
    named = select(mother_named(removed), mother_named(kept))
    for _ in range(_ATTEMPTS):
        before = (await session.execute(named)).one()
        ids = sorted({mother_id for mother_id in before if mother_id is not None})
        mothers: dict[uuid.UUID, Mother] = {}
        if ids:
            locking: Select[tuple[Mother]] = (
                select(Mother)
                .where(Mother.id.in_(ids))
                .order_by(Mother.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            mothers = {mother.id: mother for mother in await session.scalars(locking)}
        after = (await session.execute(named)).one()
        if tuple(after) == tuple(before):
            removed_id, kept_id = before
            return mothers.get(removed_id), mothers.get(kept_id)
    raise RuntimeError("The merge's records kept changing while it waited for them.")


async def _move_her(session: AsyncSession, her: Mother, removed: str, kept: str) -> uuid.UUID:
    """Only the removed number has a case: her record takes the kept number, and the removed
    one stays as her alias. If the removed number was already an earlier number of hers (an
    alias) and her record holds a third, NOMIS and her record disagree: a person decides."""
    if her.prison_number != removed:
        await _flag_once(
            session,
            her,
            f"NOMIS merged prison number {removed}, an earlier number of hers, into {kept}; "
            f"her record holds {her.prison_number}. Nothing was changed: check which number "
            "is hers now, and correct her record.",
        )
        return her.id
    her.prison_number = kept
    touch(her)
    audit.record(session, Action.alter, "mother", her.id, her.id)
    await session.flush()
    await _keep_alias(session, her, removed)
    await _repoint(session, removed, kept, her.id)
    return her.id


async def _already_merged(session: AsyncSession, her: Mother, removed: str, kept: str) -> None:
    """Both numbers already name her: a merge applied before (nothing left to do but what was
    pushed under the old number since), or NOMIS merging back the other way (her record held
    the removed number, the kept one was her alias: they swap)."""
    if her.prison_number == removed:
        alias = await session.scalar(
            select(PrisonNumberAlias).where(PrisonNumberAlias.prison_number == kept)
        )
        assert alias is not None
        alias.prison_number, alias.merged_at = removed, utcnow()
        touch(alias)
        her.prison_number = kept
        touch(her)
        audit.record(session, Action.alter, "mother", her.id, her.id)
        audit.record(session, Action.alter, "prison_number_alias", alias.id, her.id)
        await session.flush()
    await _repoint(session, removed, her.prison_number, her.id)


async def _both_have_cases(
    session: AsyncSession, removed_hers: Mother, kept_hers: Mother, removed: str, kept: str
) -> None:
    """Two records, each with a case: nothing moves; each is flagged. The reason names neither
    the other record nor where she is held: a flag is read by the social workers of her own
    prison, who may not see the other woman (an administrator sees both, by the numbers)."""
    for her in (removed_hers, kept_hers):
        await _flag_once(
            session,
            her,
            f"NOMIS merged prison number {removed} into {kept}, and both numbers have a case "
            f"here: this record ({her.prison_number}) and another. Nothing was moved: an "
            "administrator, who can see both, decides whether they are the same woman and "
            "brings her records together by hand if so.",
        )


async def _keep_alias(session: AsyncSession, her: Mother, removed: str) -> None:
    """The removed number, as an alias of hers (already one: nothing to do)."""
    held = await session.scalar(
        select(PrisonNumberAlias.id).where(PrisonNumberAlias.prison_number == removed)
    )
    if held is not None:
        return
    alias = PrisonNumberAlias(prison_number=removed, mother_id=her.id)
    session.add(alias)
    await session.flush()
    audit.record(session, Action.collect, "prison_number_alias", alias.id, her.id)


async def _repoint(
    session: AsyncSession, removed: str, number: str, mother_id: uuid.UUID | None
) -> None:
    """Referrals and pending link requests naming the removed number name `number` now (hers).
    With no mother behind either number, still: a referral accepted later records her under
    the number NOMIS keeps, which the estate's events will name.

    A decided link request keeps the number it was decided on: a declined one stays declined
    while its authority names that number (`link_requests.service.hold`), and its authority may
    still push under the old one. Its mother is found through the alias all the same."""
    now = utcnow()
    for model, column, kind, which in (
        (Referral, Referral.prison_number, "referral", true()),
        (
            LinkRequest,
            LinkRequest.mother_prison_number,
            "link_request",
            LinkRequest.status == "pending",
        ),
    ):
        moved = await session.execute(
            update(model)
            .where(column == removed, which)
            .values({column.key: number, "version": model.version + 1, "updated_at": now})
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        audit.record_many(session, Action.alter, kind, ((row.id, mother_id) for row in moved))


async def _flag_once(session: AsyncSession, her: Mother, reason: str) -> None:
    """Her record flagged for review, unless this merge flagged it before (open or cleared:
    a person who has decided is not asked again by a redelivery)."""
    await raise_by_event(
        session,
        EVENT_SOURCE,
        mother_id=her.id,
        record=("mother", her.id),
        reason=reason,
        unless="ever",
    )


def _request_id(session: AsyncSession, delivered: Delivered) -> str:
    """What the audit trail groups this event's rows by: the handler's, or its own message."""
    given = session.info.get(REQUEST_ID)
    if given:
        return str(given)
    return f"event-{delivered.message_id or delivered.fingerprint[:32]}"[:64]
