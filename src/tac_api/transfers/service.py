"""What a sending prison keeps when she moves to another prison: a read-only summary of her case
as it stood, for `TAC_TRANSFER_SUMMARY_DAYS`, audited on every read; and the receiving prison's
handover task listing what is open. Made by the transfer itself (`mothers.service`)."""

from tac_api.resources import Resource
from tac_api.transfers.models import TransferSummary

SUMMARIES = Resource(
    kind="transfer_summary",
    model=TransferSummary,
    label="transfer summary",
    order=(TransferSummary.transferred_on, TransferSummary.id),
    when=TransferSummary.transferred_on,
    path="/v1/transfer-summaries",
)
