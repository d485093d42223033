"""The pull cursor: which versions of which records the last pull saw."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

CURSOR_VERSION = 1


@dataclass
class Cursor:
    """What the last pull saw, so the next one fetches only what changed."""

    invoices: dict[str, tuple[int, str]] = field(default_factory=dict)
    contacts: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    reconciled_at: datetime | None = None
    contacts_checked_at: datetime | None = None

    @classmethod
    def load(cls, raw: str | None) -> Cursor:
        """The cursor from its JSON; anything unreadable starts afresh."""
        try:
            data = json.loads(raw or "")
            if data.get("v") != CURSOR_VERSION:
                return cls()
            return cls(
                invoices={
                    k: (int(v), str(c)) for k, (v, c) in data["invoices"].items()
                },
                contacts={
                    k: (int(v), lang) for k, (v, lang) in data["contacts"].items()
                },
                skipped={k: int(v) for k, v in data["skipped"].items()},
                reconciled_at=datetime.fromisoformat(data["reconciled_at"]),
                contacts_checked_at=_moment(data.get("contacts_checked_at")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "invoices": self.invoices,
                "contacts": self.contacts,
                "skipped": self.skipped,
                "reconciled_at": _text(self.reconciled_at),
                "contacts_checked_at": _text(self.contacts_checked_at),
            },
            separators=(",", ":"),
        )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
