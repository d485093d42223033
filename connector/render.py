"""Render the messages a debtor receives from the administrator's templates.

Templates live in one folder per language::

    <template_dir>/<lang>/<name>.txt     required: "Subject: ..." line, blank line,
                                         then the plain-text body
    <template_dir>/<lang>/<name>.html    optional: the HTML body, autoescaped
    <template_dir>/<lang>/_<part>.*      partials for {% include %} / {% extends %}

A language without the template falls back to the policy's default language, and
then to ``en``. Templates run in Jinja2's sandbox with ``StrictUndefined``: a typo
in a variable name is an error, never an empty gap in a letter to a customer.

The context the core passes to every message template:

``debtor``
    name, customer_number, contact_person, kind (``person`` / ``business``)
``invoices``
    the invoices the message is about, each with number, issue_date, due_date,
    days_overdue, total, open_amount, currency, pay_url
``credit_notes``
    open credit notes netted against them, the same shape, open_amount negative
``total_open``
    Decimal: the open invoices minus the open credit notes
``currency``
    the currency of ``total_open``
``sender``
    name, email, reply_to, phone and iban (the last three may be empty)
``step``
    the step of the plan, with its ``id``
``today``
    the date of the cycle, in the policy's timezone
``pay_url``
    a payment link for the whole amount, or an empty string

The renderer adds ``language`` (the template language used) and ``locale`` (the
Babel locale that formats numbers and dates). Filters:

``money(amount, currency)``
    ``€ 1.210,00`` in Dutch, ``€1,210.00`` in English; a ``Money`` needs no currency
``date(d, format="long")``
    ``3 december 2026`` / ``December 3, 2026``; also short, medium, full or a
    Babel pattern
``http_url(url)``
    the url if it is http(s), otherwise empty: for ``href`` attributes

Formats follow the recipient's language, never the process locale. Babel's
no-break spaces are written as plain spaces, so that plain-text mail reads and
searches the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import (
    BaseLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from connector.domain import Money
from connector.errors import ConfigError

FALLBACK_LANGUAGE = "en"

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LANGUAGE = re.compile(r"([a-zA-Z]{2,3})(?:[_-]([a-zA-Z0-9]{2,4}))?")
_SUBJECT = re.compile(r"subject:[ \t]?", re.IGNORECASE)
_SUBJECT_PART = "::subject"
_BODY_PART = "::body"


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message, ready for a channel: a one-line subject and its bodies."""

    subject: str
    text: str
    html: str | None
    language: str


class TemplateRenderer:
    """Renders the message templates under one directory."""

    def __init__(self, template_dir: Path, default_language: str):
        self.template_dir = Path(template_dir)
        self.default_language = default_language
        self._env = SandboxedEnvironment(
            loader=_MessageLoader(self.template_dir),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"], default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters["money"] = _money
        self._env.filters["date"] = _date
        self._env.filters["http_url"] = _http_url

    def render(
        self, name: str, language: str, context: Mapping[str, object]
    ) -> RenderedMessage:
        """Render message `name` in `language`, or in the first fallback that has it."""
        _check_name(name)
        used = self.resolve_language(name, language)
        values = {**context, "language": used, "locale": _locale(language, used)}

        subject = self._render(f"{used}/{name}.txt{_SUBJECT_PART}", values)
        text = self._render(f"{used}/{name}.txt{_BODY_PART}", values)
        html = None
        if (self.template_dir / used / f"{name}.html").is_file():
            html = self._render(f"{used}/{name}.html", values)

        return RenderedMessage(
            subject=one_line(subject),
            text=text.strip("\n") + "\n",
            html=html,
            language=used,
        )

    def resolve_language(self, name: str, language: str) -> str:
        """The language whose template `name` a message in `language` uses."""
        for candidate in self._fallbacks(language):
            if (self.template_dir / candidate / f"{name}.txt").is_file():
                return candidate
        expected = self.template_dir / self.default_language / f"{name}.txt"
        raise ConfigError(f"no template {name!r} in any language", file=str(expected))

    def languages(self) -> set[str]:
        """The languages that have a folder of templates."""
        if not self.template_dir.is_dir():
            return set()
        return {p.name for p in self.template_dir.iterdir() if p.is_dir()}

    def names(self, language: str) -> set[str]:
        """The messages defined in `language`'s own folder (no fallbacks)."""
        folder = self.template_dir / language
        if not folder.is_dir():
            return set()
        return {
            path.stem
            for path in folder.glob("*.txt")
            if _NAME.fullmatch(path.stem) is not None
        }

    def check(
        self, name: str, context: Mapping[str, object] | None = None
    ) -> list[str]:
        """Problems with message `name`, one line each, for ``dunning validate``.

        Every language's files and the partials they include are compiled; with a
        sample `context`, each language is also rendered, which catches misspelt
        variables.
        """
        if _NAME.fullmatch(name) is None:
            return [f"{name!r} is not a valid template name"]
        problems: list[str] = []
        if not any(name in self.names(lang) for lang in self._fallbacks("")):
            path = self.template_dir / self.default_language / f"{name}.txt"
            problems.append(f"{path}: missing")

        for language in sorted(self.languages()):
            problems += self._check_language(name, language, context)
        return problems

    def _check_language(
        self, name: str, language: str, context: Mapping[str, object] | None
    ) -> list[str]:
        folder = self.template_dir / language
        if not (folder / f"{name}.txt").is_file():
            if (folder / f"{name}.html").is_file():
                return [f"{folder / name}.html: has no {name}.txt beside it"]
            return []
        problems: list[str] = []
        seen: set[str] = set()
        parts = [f"{language}/{name}.txt{_SUBJECT_PART}"]
        parts.append(f"{language}/{name}.txt{_BODY_PART}")
        if (folder / f"{name}.html").is_file():
            parts.append(f"{language}/{name}.html")
        for part in parts:
            problems += self._check_template(part, seen)

        if context is not None and not problems:
            try:
                self.render(name, language, context)
            except ConfigError as exc:
                problems.append(str(exc))
        return problems

    def _check_template(self, name: str, seen: set[str]) -> list[str]:
        """Compile template `name` and, once each, every template it refers to."""
        if name in seen:
            return []
        seen.add(name)
        try:
            self._env.get_template(name)
            source, filename, _ = self._env.loader.get_source(  # type: ignore[union-attr]
                self._env, name
            )
            refs = meta.find_referenced_templates(
                self._env.parse(source, name, filename)
            )
        except TemplateNotFound as exc:
            return [f"{self.template_dir / str(exc.name)}: missing, needed by {name}"]
        except TemplateSyntaxError as exc:
            return [
                str(ConfigError(exc.message or "", file=exc.filename, line=exc.lineno))
            ]
        except ConfigError as exc:
            return [str(exc)]
        problems: list[str] = []
        for ref in refs:
            if ref is not None:
                problems += self._check_template(ref, seen)
        return problems

    def _render(self, name: str, values: Mapping[str, object]) -> str:
        try:
            template: Template = self._env.get_template(name)
            return template.render(values)
        except ConfigError:
            raise
        except TemplateSyntaxError as exc:
            raise ConfigError(
                exc.message or "syntax error", file=exc.filename, line=exc.lineno
            ) from exc
        except TemplateNotFound as exc:
            raise ConfigError(f"included template {exc.name!r} not found") from exc
        # A template is code the administrator wrote: whatever it raises (an
        # undefined name, a sandbox refusal, a filter given the wrong type) becomes
        # a configuration error that points at the template line.
        except Exception as exc:
            file, line = self._template_frame(exc.__traceback__)
            raise ConfigError(
                f"{type(exc).__name__}: {exc}", file=file, line=line
            ) from exc

    def _template_frame(
        self, tb: TracebackType | None
    ) -> tuple[str | None, int | None]:
        """The deepest template file and line in a traceback Jinja rewrote."""
        root = str(self.template_dir)
        found: tuple[str | None, int | None] = (None, None)
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.startswith(root):
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        return found

    def _fallbacks(self, language: str) -> list[str]:
        candidates: list[str] = []
        for code in (language, self.default_language, FALLBACK_LANGUAGE):
            match = _LANGUAGE.fullmatch(code or "")
            if match is None:
                continue
            base, region = match.group(1).lower(), match.group(2)
            if region:
                candidates.append(f"{base}_{region.upper()}")
            candidates.append(base)
        return list(dict.fromkeys(candidates))


def one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


class _MessageLoader(BaseLoader):
    """Loads template files, and a ``.txt`` message's subject and body apart.

    ``nl/reminder.txt::subject`` is the template on the first line after
    ``Subject:``; ``nl/reminder.txt::body`` is everything after the blank second
    line, padded with a comment so that Jinja's line numbers match the file.
    """

    def __init__(self, directory: Path):
        self._files = FileSystemLoader(directory)

    def get_source(
        self, environment: Any, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        path, part_sep, part = template.partition("::")
        source, filename, uptodate = self._files.get_source(environment, path)
        if not part_sep:
            return source, filename, uptodate
        subject, body = _split_message(source, filename)
        return (subject if part == "subject" else body), filename, uptodate

    def list_templates(self) -> list[str]:
        return self._files.list_templates()


def _split_message(source: str, filename: str | None) -> tuple[str, str]:
    lines = source.split("\n", 2)
    first = lines[0].rstrip("\r")
    match = _SUBJECT.match(first)
    if match is None:
        raise ConfigError("first line must be 'Subject: ...'", file=filename, line=1)
    if len(lines) > 1 and lines[1].strip():
        raise ConfigError("second line must be blank", file=filename, line=2)
    body = lines[2] if len(lines) > 2 else ""
    return first[match.end() :], "{#\n\n#}" + body


def _check_name(name: str) -> None:
    if _NAME.fullmatch(name) is None:
        raise ConfigError(f"{name!r} is not a valid template name")


def _locale(requested: str, used: str) -> str:
    """The recipient's own locale (nl_BE) if the template is in its language."""
    try:
        locale = Locale.parse(requested.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return used
    return str(locale) if locale.language == used.split("_")[0] else used


@pass_context
def _money(
    context: Context, amount: Decimal | int | Money, currency: str | None = None
) -> str:
    if isinstance(amount, Money):
        value, currency = amount.amount, currency or amount.currency
    elif isinstance(amount, Decimal | int) and not isinstance(amount, bool):
        value = Decimal(amount)
    else:
        raise TypeError(f"money needs a Decimal amount, got {type(amount).__name__}")
    if not currency:
        raise TypeError("money needs a currency")
    text = format_currency(value, currency, locale=context["locale"])
    return _plain_spaces(text)


@pass_context
def _date(context: Context, value: Date, format: str = "long") -> str:
    if not isinstance(value, Date):
        raise TypeError(f"date needs a date, got {type(value).__name__}")
    return _plain_spaces(format_date(value, format, locale=context["locale"]))


def _http_url(url: object) -> str:
    text = str(url or "").strip()
    return text if re.match(r"https?://", text, re.IGNORECASE) else ""


def _plain_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")
