import uuid
from typing import Literal

from pydantic import Field

from tac_api.schemas import Input, IsoDatetime, LongName, RecordPublic, Text, UtcDatetime

Kind = Literal["relay", "life_story_contribution"]
Party = Literal[
    "mother",
    "la_social_worker",
    "court",
    "solicitor",
    "carer",
    "child",
    "prison_social_worker",
    "other",
]
Channel = Literal["phone", "email", "letter", "video_call", "in_person", "other"]
MOST_CHILDREN = 20

KIND = (
    "`relay`: information passed between her and someone around her children. "
    "`life_story_contribution`: something from her for the life story work of a child for whom "
    "contact is not appropriate; it names exactly one child and describes the item."
)
WITHHELD_NAME = (
    "Null when not given, or withheld: a carer's name, when a child it concerns is placed "
    "confidentially, is shown to that child's own local authority only."
)


class CommunicationCreate(Input):
    kind: Kind = Field(default="relay", description=KIND)
    from_party: Party
    from_name: LongName | None = Field(default=None, description="Who, when it helps to say.")
    to_party: Party
    to_name: LongName | None = None
    channel: Channel
    occurred_at: IsoDatetime = Field(description="When it was passed on; not in the future.")
    summary: Text = Field(description="What was relayed.")
    child_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MOST_CHILDREN,
        description="The children it concerns, all hers. A life story contribution names one.",
    )
    item_description: Text | None = Field(
        default=None,
        description="A life story contribution's item (a letter, a photo, a memory book page); "
        "required for one, refused for a relay.",
    )


class CommunicationPublic(RecordPublic):
    mother_id: uuid.UUID
    kind: Kind
    from_party: Party
    from_name: str | None = Field(description=WITHHELD_NAME)
    to_party: Party
    to_name: str | None = Field(description=WITHHELD_NAME)
    channel: Channel
    occurred_at: UtcDatetime
    summary: str
    item_description: str | None
    child_ids: list[uuid.UUID] = Field(
        description="The children it concerns; a local authority sees its own children only."
    )
