"""The Exact entities the adapter reads and writes, with the fields it selects.

Every read names its fields (``$select``): bulk and sync endpoints demand it,
and it keeps the answers small. Sync feeds are read with ``Timestamp gt nL``;
other lists with the filters Exact's mandatory filtering accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from adapters.exact.client import ExactClient
from adapters.exact.odata import Row, guid

TERMS = "sync/Cashflow/PaymentTerms"
ACCOUNTS_SYNC = "sync/CRM/Accounts"
ACCOUNTS = "crm/Accounts"
DELETED = "sync/Deleted"
RECEIVABLES = "cashflow/Receivables"
OPEN_ITEMS = "read/financial/ReceivablesList"
NOTES = "activities/CommunicationNotes"
TASKS = "activities/Tasks"
DOCUMENTS = "documents/Documents"
ATTACHMENTS = "documents/DocumentAttachments"

CUSTOMER_LINE = 20  # LineType of receivables; 22 are payables
DELETED_TERM = 10  # sync/Deleted EntityType of a payment term
DELETED_SALES_INVOICE = 13

RECEIVABLE_FIELDS = (
    "ID",
    "Account",
    "AmountFC",
    "Currency",
    "Description",
    "DueDate",
    "EntryNumber",
    "InvoiceDate",
    "InvoiceNumber",
    "IsFullyPaid",
    "Journal",
    "LastPaymentDate",
    "Status",
    "TransactionAmountFC",
    "TransactionEntryID",
    "TransactionType",
    "YourRef",
)
TERM_FIELDS = ("Timestamp", "LineType", *RECEIVABLE_FIELDS)
ACCOUNT_FIELDS = (
    "ID",
    "Code",
    "Name",
    "Email",
    "Language",
    "Country",
    "AddressLine1",
    "Postcode",
    "City",
    "VATNumber",
    "ChamberOfCommerce",
    "InvoiceAccount",
    "IsSales",
    "Status",
)
OPEN_ITEM_FIELDS = ("HID", "AccountId", "Amount", "CurrencyCode", "EntryNumber")
DELETED_FIELDS = ("Timestamp", "EntityKey", "EntityType")
NOTE_FIELDS = ("ID", "Subject")
TASK_FIELDS = ("ID", "Description")
DOCUMENT_FIELDS = ("ID", "Subject")
ATTACHMENT_FIELDS = ("ID", "FileName")

# A filter of 40 "Field eq guid'…'" clauses stays well under Exact's URL limit.
BATCH = 40


def _since(timestamp: int) -> str:
    return f"Timestamp gt {timestamp}L"


def _any_of(field: str, literals: Iterable[str]) -> str:
    return " or ".join(f"{field} eq {literal}" for literal in literals)


def _batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Resources:
    """Reads and writes of one division, in Exact's own terms."""

    def __init__(self, client: ExactClient) -> None:
        self.client = client

    def changed_terms(self, since: int) -> Iterator[list[Row]]:
        """Pages of payment terms changed after ``since`` (all line types)."""
        return self.client.pages(TERMS, TERM_FIELDS, filter=_since(since))

    def changed_accounts(self, since: int) -> Iterator[list[Row]]:
        fields = ("Timestamp", *ACCOUNT_FIELDS)
        return self.client.pages(ACCOUNTS_SYNC, fields, filter=_since(since))

    def deletions(self, since: int) -> Iterator[list[Row]]:
        return self.client.pages(DELETED, DELETED_FIELDS, filter=_since(since))

    def receivables_of_entries(self, entry_ids: Sequence[str]) -> list[Row]:
        """Every term (open and settled) of these financial entries."""
        rows: list[Row] = []
        for batch in _batches(sorted(set(entry_ids))):
            where = _any_of("TransactionEntryID", (guid(e) for e in batch))
            rows.extend(self.client.rows(RECEIVABLES, RECEIVABLE_FIELDS, filter=where))
        return rows

    def receivables_by_number(self, entry_numbers: Sequence[int]) -> list[Row]:
        """Every term of the entries with these entry numbers."""
        rows: list[Row] = []
        for batch in _batches(sorted(set(entry_numbers))):
            where = _any_of("EntryNumber", (str(n) for n in batch))
            rows.extend(self.client.rows(RECEIVABLES, RECEIVABLE_FIELDS, filter=where))
        return rows

    def open_items(self) -> Iterator[Row]:
        """The open-items list, as Exact's outstanding items report has it."""
        return self.client.rows(OPEN_ITEMS, OPEN_ITEM_FIELDS)

    def accounts(self, ids: Sequence[str]) -> list[Row]:
        rows: list[Row] = []
        for batch in _batches(sorted(set(ids))):
            where = _any_of("ID", (guid(i) for i in batch))
            rows.extend(self.client.rows(ACCOUNTS, ACCOUNT_FIELDS, filter=where))
        return rows

    def notes_of(self, account_id: str) -> Iterator[Row]:
        where = f"Account eq {guid(account_id)}"
        return self.client.rows(NOTES, NOTE_FIELDS, filter=where)

    def tasks_of(self, account_id: str) -> Iterator[Row]:
        where = f"Account eq {guid(account_id)}"
        return self.client.rows(TASKS, TASK_FIELDS, filter=where)

    def documents_of(self, account_id: str) -> Iterator[Row]:
        where = f"Account eq {guid(account_id)}"
        return self.client.rows(DOCUMENTS, DOCUMENT_FIELDS, filter=where)

    def attachments_of(self, document_id: str) -> Iterator[Row]:
        where = f"Document eq {guid(document_id)}"
        return self.client.rows(ATTACHMENTS, ATTACHMENT_FIELDS, filter=where)

    def create_note(self, body: Mapping[str, Any]) -> Row:
        return self.client.post(NOTES, body)

    def create_task(self, body: Mapping[str, Any]) -> Row:
        return self.client.post(TASKS, body)

    def create_document(self, body: Mapping[str, Any]) -> Row:
        return self.client.post(DOCUMENTS, body)

    def create_attachment(self, body: Mapping[str, Any]) -> Row:
        return self.client.post(ATTACHMENTS, body)
