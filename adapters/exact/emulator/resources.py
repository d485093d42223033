"""The REST resources the emulator serves, each with Exact's rules for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.exact.emulator.state import Division, Row

MANDATORY_ACCOUNT_FILTERS = (
    "Accountant,AccountManager,AddressLine1,AddressLine2,AddressLine3,Blocked,BRIN,"
    "BSN,ChamberOfCommerce,City,Classification1,Classification2,Classification3,"
    "Classification4,Classification5,Classification6,Classification7,"
    "Classification8,Classification,Code,CodeAtSupplier,Country,Created,Email,"
    "EndDate,Fax,ID,InvoiceAccount,IsAccountant,IsReseller,IsSales,IsSupplier,"
    "MainContact,Modified,Name,Parent,Phone,Postcode,PriceList,Reseller,RSIN,"
    "SearchCode,StartDate,Status,Type,VATNumber"
)
RECEIVABLE_FILTERS = (
    "ID,Account,EntryNumber,InvoiceNumber,TransactionEntryID,IsFullyPaid,Status,"
    "Modified,DueDate"
)


@dataclass(frozen=True)
class Resource:
    """One GET-able entity set and how Exact treats queries on it."""

    rows: Callable[[Division], list[Row]]
    key: str
    type_name: str
    page_size: int = 60
    select_required: bool = False  # 400 without $select (bulk, sync)
    select_or_top: bool = False  # 400 without $select or $top=1
    filters: tuple[str, ...] | None = None  # fields $filter may use
    mandatory: str | None = None  # comma list: a $filter on one is required
    postable: bool = False


def _terms(division: Division) -> list[Row]:
    return list(division.terms.values())


def _receivables(division: Division) -> list[Row]:
    return [t for t in division.terms.values() if t["LineType"] == 20]


def _open_items(division: Division) -> list[Row]:
    """ReceivablesList: one row per open customer term, Exact's report shape."""
    rows = []
    for term in _receivables(division):
        if term["IsFullyPaid"]:
            continue
        rows.append(
            {
                "HID": term["_hid"],
                "AccountId": term["Account"],
                "AccountCode": term["AccountCode"],
                "AccountName": term["AccountName"],
                "Amount": term["AmountFC"],
                "AmountInTransit": 0,
                "CurrencyCode": term["Currency"],
                "Description": term["Description"],
                "DueDate": term["DueDate"],
                "EntryNumber": term["EntryNumber"],
                "InvoiceDate": term["InvoiceDate"],
                "InvoiceNumber": term["InvoiceNumber"],
                "JournalCode": term["Journal"],
                "JournalDescription": term["JournalDescription"],
                "YourRef": term["YourRef"],
            }
        )
    return rows


def _public(rows: Callable[[Division], Any], drop: tuple[str, ...] = ()) -> Any:
    def strip(division: Division) -> list[Row]:
        return [{k: v for k, v in r.items() if k not in drop} for r in rows(division)]

    return strip


_models = "Exact.Web.Api.Models"
_no_sync_fields = ("Timestamp", "LineType")

RESOURCES: dict[str, Resource] = {
    "sync/Cashflow/PaymentTerms": Resource(
        _terms,
        "Timestamp",
        f"{_models}.Sync.Cashflow.PaymentTerm",
        page_size=1000,
        select_required=True,
        filters=("Timestamp",),
    ),
    "sync/CRM/Accounts": Resource(
        lambda d: list(d.accounts.values()),
        "Timestamp",
        f"{_models}.Sync.CRM.Account",
        page_size=1000,
        select_required=True,
        filters=("Timestamp",),
    ),
    "sync/Deleted": Resource(
        lambda d: list(d.deleted),
        "Timestamp",
        f"{_models}.Sync.Deleted",
        page_size=1000,
        select_required=True,
        filters=("Timestamp", "EntityType"),
    ),
    "read/financial/ReceivablesList": Resource(
        _open_items,
        "HID",
        f"{_models}.Financial.ReceivablesList",
        select_or_top=True,
        filters=("AccountId", "DueDate", "YourRef", "AccountCode", "InvoiceNumber"),
    ),
    "cashflow/Receivables": Resource(
        _public(_receivables, _no_sync_fields),
        "ID",
        f"{_models}.Cashflow.Receivable",
        select_or_top=True,
        mandatory=RECEIVABLE_FILTERS,
    ),
    "bulk/Cashflow/Receivables": Resource(
        _public(_receivables, _no_sync_fields),
        "ID",
        f"{_models}.Cashflow.Receivable",
        page_size=1000,
        select_required=True,
        mandatory=RECEIVABLE_FILTERS,
    ),
    "crm/Accounts": Resource(
        _public(lambda d: list(d.accounts.values()), ("Timestamp",)),
        "ID",
        f"{_models}.CRM.Account",
        select_or_top=True,
        mandatory=MANDATORY_ACCOUNT_FILTERS,
    ),
    "bulk/CRM/Accounts": Resource(
        _public(lambda d: list(d.accounts.values()), ("Timestamp",)),
        "ID",
        f"{_models}.CRM.Account",
        page_size=1000,
        select_required=True,
        mandatory=MANDATORY_ACCOUNT_FILTERS,
    ),
    "activities/CommunicationNotes": Resource(
        _public(lambda d: list(d.notes.values()), ("Timestamp",)),
        "ID",
        f"{_models}.Activities.CommunicationNote",
        postable=True,
    ),
    "activities/Tasks": Resource(
        _public(lambda d: list(d.tasks.values()), ("Timestamp",)),
        "ID",
        f"{_models}.Activities.Task",
        postable=True,
    ),
    "documents/Documents": Resource(
        _public(lambda d: list(d.documents.values()), ("Timestamp",)),
        "ID",
        f"{_models}.Document",
        postable=True,
    ),
    "documents/DocumentAttachments": Resource(
        _public(lambda d: list(d.attachments.values()), ("_content",)),
        "ID",
        f"{_models}.DocumentAttachment",
        postable=True,
    ),
}

# What a POST may set, and the read-only fields the server fills in.
POST_FIELDS: dict[str, tuple[str, ...]] = {
    "activities/CommunicationNotes": (
        "Account",
        "Contact",
        "Date",
        "Document",
        "Notes",
        "Subject",
        "User",
    ),
    "activities/Tasks": (
        "Account",
        "Contact",
        "ActionDate",
        "Description",
        "Notes",
        "User",
        "TaskType",
        "Document",
    ),
    "documents/Documents": ("Account", "Subject", "Body", "DocumentDate", "Type"),
    "documents/DocumentAttachments": ("Attachment", "Document", "FileName"),
}
# What a POST must set (unconfirmed for Exact; see the brief, section 12).
REQUIRED: dict[str, tuple[str, ...]] = {
    "activities/CommunicationNotes": ("Subject",),
    "activities/Tasks": ("Description",),
    "documents/Documents": ("Subject",),
    "documents/DocumentAttachments": ("Attachment", "Document", "FileName"),
}
COLLECTIONS = {
    "activities/CommunicationNotes": "notes",
    "activities/Tasks": "tasks",
    "documents/Documents": "documents",
    "documents/DocumentAttachments": "attachments",
}
