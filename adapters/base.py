"""The adapter protocol: all the core knows about a bookkeeping package.

An adapter is registered under the entry-point group ``dunning.adapters``; the entry
point names a class with an ``Options`` pydantic model (the source's settings in the
policy, validated before anything runs) and a ``create`` constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from connector.domain import Debtor, Invoice, InvoiceStatus
from connector.errors import ConfigError

ENTRY_POINT_GROUP = "dunning.adapters"


class AdapterOptions(BaseModel):
    """Base for the per-adapter settings of a source; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class SecretRef(BaseModel):
    """A secret named in the policy (``{secret: NAME}``), never its value.

    The value is looked up by ``SourceContext.secret(name)`` in the environment or
    the secrets directory, at the moment it is needed.
    """

    model_config = ConfigDict(extra="forbid")

    secret: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Changes:
    """What a pull found since the cursor it was given.

    With ``complete_snapshot`` the invoices listed are all the open invoices there
    are, and any mirrored invoice not among them has left the open list. ``closed``
    maps invoices known to have left the open list to their new status.
    """

    cursor: str | None
    debtors: Sequence[Debtor] = ()
    invoices: Sequence[Invoice] = ()
    closed: Mapping[str, InvoiceStatus] = field(default_factory=dict)
    complete_snapshot: bool = False
    skipped: Sequence[tuple[str, str]] = ()  # (record key, reason)


@dataclass(frozen=True, slots=True)
class Note:
    """A note written back into the books after an action.

    ``key`` is the action's deterministic key; an adapter must write at most one
    note per key, even when the answer to an earlier attempt was lost.
    """

    key: str
    debtor_key: str
    invoice_keys: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Task:
    """A task for a colleague (a call, a review), written into the books."""

    key: str
    debtor_key: str
    invoice_keys: tuple[str, ...]
    text: str
    assignee: str | None = None
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What the core hands an adapter when it is created."""

    name: str
    secret: Callable[[str], str]
    now: Callable[[], datetime]
    state_dir: str
    store: Any = None  # the state store, for adapters that keep tokens there
    base_dir: str = "."  # relative paths in the options are relative to this


@runtime_checkable
class Adapter(Protocol):
    """The calls the cycle makes on a source."""

    def pull_changes(self, cursor: str | None, known: Mapping[str, str]) -> Changes:
        """Fetch what changed since ``cursor``.

        ``known`` maps every mirrored open invoice key to the version the adapter
        stored for it (``Invoice`` fields are compared by the core; adapters that
        have a version of their own may use it to fetch less).
        """
        ...

    def confirm_invoices(
        self, keys: Sequence[str]
    ) -> Mapping[str, Invoice | InvoiceStatus]:
        """Re-read these invoices right before acting.

        Each key maps to the fresh invoice, or to the status it now has if it is no
        longer open (paid, credited, deleted).
        """
        ...

    def write_note(self, note: Note) -> str:
        """Write a note and return its id at the source; idempotent by key."""
        ...

    def create_task(self, task: Task) -> str:
        """Create a task and return its id at the source; idempotent by key."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class DocumentStore(Protocol):
    """An optional adapter call: keep a letter with the debtor in the books.

    Returns the document's id at the source, or "" when the source is not set up
    to keep letters. At most one document per action key.
    """

    def store_document(
        self,
        key: str,
        debtor_key: str,
        invoice_keys: tuple[str, ...],
        filename: str,
        content: bytes,
    ) -> str: ...


class AdapterFactory(Protocol):
    """What an entry point of ``dunning.adapters`` must name."""

    Options: ClassVar[type[AdapterOptions]]

    @classmethod
    def create(cls, options: Any, context: SourceContext) -> Adapter: ...


def available_adapters() -> dict[str, Any]:
    """Adapter factories registered under the entry-point group, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_adapter(name: str) -> AdapterFactory:
    """The factory registered under ``name``, or a ConfigError naming the choices."""
    found = available_adapters()
    if name not in found:
        choices = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"unknown adapter {name!r} (available: {choices})")
    factory: AdapterFactory = found[name].load()
    return factory


def version_of(invoice: Invoice) -> str:
    """A stable fingerprint of what the core cares about in an invoice."""
    parts: Iterable[object] = (
        invoice.status,
        invoice.open_amount,
        invoice.total,
        invoice.due_date,
        invoice.paused_at_source,
        len(invoice.payments),
    )
    return "|".join(str(p) for p in parts)
