"""What a court's document says of who made it and whom it names, and the document as sent.

Which format the caller asked for, and the PDF printed from the HTML, are `tac_api.printing`'s
(the reports answer the same way).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api import printing
from tac_api.auth.schemas import Caller
from tac_api.documents.page import CONTENT_SECURITY_POLICY
from tac_api.reference.models import LocalAuthority
from tac_api.staff.service import entry_signed_in_as


async def preparer(session: AsyncSession, caller: Caller) -> str:
    """Who prepared a document: the caller's name in the staff directory if she has an entry,
    else the name her client was registered with. Her own entry, read for her: not audited."""
    entry = await entry_signed_in_as(session, caller)
    return entry.name if entry is not None else caller.name


async def authority_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names of these local authorities (reference data), by DfE number: none asked, no
    statement."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(
        select(LocalAuthority.dfe_number, LocalAuthority.name).where(
            LocalAuthority.dfe_number.in_(wanted)  # type: ignore[attr-defined]
        )
    )
    return {code: name for code, name in rows.all()}


async def document(
    format: printing.Format, page: str, name: str, mother_id: uuid.UUID, generated_at: datetime
) -> Response:
    """The document as HTML or PDF. Its file name holds no one's name (a name is personal data,
    and file names end up in download folders, proxies' logs and e-mails): what it is, her id
    and when it was made, e.g. `chronology-<her id>-20261206-0930.pdf`."""
    assert format != "json"
    stamp = f"{generated_at:%Y%m%d-%H%M}"
    return await printing.printable(
        format, page, f"{name}-{mother_id}-{stamp}", CONTENT_SECURITY_POLICY
    )
