"""Optimistic locking over HTTP: ETag out, If-Match in."""

from typing import Annotated

from fastapi import Header, Response

from tac_api.errors import PreconditionFailed, PreconditionRequired


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=256,
        description="The ETag you last read; required, so that no one overwrites a change unseen.",
    ),
]


def check_if_match(if_match: str | None, current_version: int) -> None:
    """428 without If-Match, 412 when it names a version that is no longer current."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last read of this record."
        )
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag_for(current_version) not in tags:
        raise PreconditionFailed(
            f"This record is now at version {current_version}; read it again, then reapply."
        )
