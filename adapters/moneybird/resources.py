"""Moneybird's resources as the adapter needs them: paging and synchronization."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import requests

from adapters.moneybird.client import MoneybirdClient, RecordNotFound, Timeouts

OPEN_STATES = ("open", "late", "reminded", "pending_payment")
FETCH_LIMIT = 100  # the synchronization POST answers at most this many
PER_PAGE_MAX = 100

Record = dict[str, Any]


def chunks(ids: Sequence[str], size: int = FETCH_LIMIT) -> Iterator[list[str]]:
    """``ids`` in slices the synchronization POST will answer in full."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def next_link(response: requests.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if there is one."""
    found = response.links.get("next", {}).get("url")
    return str(found) if found else None


class SynchronizedResource:
    """A resource with ``/synchronization``: ids + versions, then fetch by ids."""

    path: str = ""

    def __init__(self, client: MoneybirdClient) -> None:
        self.client = client

    def versions(self, filter_: str | None = None) -> dict[str, int]:
        """Every id (matching ``filter_``) with its version."""
        params = {"filter": filter_} if filter_ else None
        listed = self.client.get(f"{self.path}/synchronization", params)
        return {str(item["id"]): int(item["version"]) for item in listed}

    def fetch(self, ids: Iterable[str]) -> list[Record]:
        """The full records for ``ids``, 100 per request; unknown ids are left out."""
        found: list[Record] = []
        for chunk in chunks(sorted(set(ids))):
            found.extend(
                self.client.post(f"{self.path}/synchronization", {"ids": chunk})
            )
        return found

    def get(self, record_id: str) -> Record | None:
        """One record, or None if it does not exist (any more)."""
        try:
            record: Record = self.client.get(f"{self.path}/{record_id}")
        except RecordNotFound:
            return None
        return record

    def add_note(
        self,
        record_id: str,
        text: str,
        *,
        todo: bool = False,
        assignee_id: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> Record:
        """Write a note (a to-do with ``todo`` or an assignee) on one record."""
        note: Record = {"note": text, "todo": todo}
        if assignee_id:
            note["assignee_id"] = assignee_id
        created: Record = self.client.post(
            f"{self.path}/{record_id}/notes", {"note": note}, timeouts=timeouts
        )
        return created


class SalesInvoices(SynchronizedResource):
    """``/sales_invoices``."""

    path = "sales_invoices"

    def open_versions(self) -> dict[str, int]:
        """Id and version of every invoice that is still to be paid."""
        return self.versions("state:" + "|".join(OPEN_STATES))

    def list(
        self,
        *,
        states: Sequence[str] = (),
        period: str | None = None,
        updated_after: str | None = None,
        contact_id: str | None = None,
        per_page: int = PER_PAGE_MAX,
    ) -> Iterator[Record]:
        """Page through the invoice list, following ``Link: rel="next"``.

        Without ``period`` Moneybird lists this year's invoices only.
        """
        parts = []
        if states:
            parts.append("state:" + "|".join(states))
        if period:
            parts.append(f"period:{period}")
        if updated_after:
            parts.append(f"updated_after:{updated_after}")
        if contact_id:
            parts.append(f"contact_id:{contact_id}")
        params: dict[str, Any] = {"per_page": min(per_page, PER_PAGE_MAX), "page": 1}
        if parts:
            params["filter"] = ",".join(parts)
        response = self.client.request("GET", self.client.url(self.path), params=params)
        while True:
            yield from response.json()
            link = next_link(response)
            if link is None:
                return
            response = self.client.get_url(link)

    def pause(self, invoice_id: str) -> Record:
        """Stop Moneybird's own workflow steps (its reminders) for this invoice."""
        paused: Record = self.client.post(f"{self.path}/{invoice_id}/pause", {})
        return paused

    def resume(self, invoice_id: str) -> Record:
        resumed: Record = self.client.post(f"{self.path}/{invoice_id}/resume", {})
        return resumed

    def download_pdf(self, invoice_id: str) -> bytes:
        return self.client.download(f"{self.path}/{invoice_id}/download_pdf")


class Contacts(SynchronizedResource):
    """``/contacts``."""

    path = "contacts"
