"""The policy: what the administrator writes in ``dunning.yaml``, validated.

Loading never raises a traceback at the user: every problem becomes a ConfigError
with the file and line, and `load_policy` collects all of them before it gives up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from adapters.base import SecretRef
from connector.domain import DebtorKind
from connector.errors import ConfigError
from connector.yamlmap import LocatedDocument, load_located

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base of every policy model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _days_of_week(value: Any) -> Any:
    """Read ``mon-fri`` or ``[mon, wed]`` as a tuple of weekday numbers."""
    if isinstance(value, str):
        parts = [p.strip().lower() for p in value.split(",")]
        days: list[int] = []
        for part in parts:
            first, _, last = part.partition("-")
            if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                raise ValueError(f"unknown day {part!r}; use mon..sun or mon-fri")
            start = WEEKDAYS.index(first)
            end = WEEKDAYS.index(last) if last else start
            days.extend(range(start, end + 1))
        return tuple(sorted(set(days)))
    if isinstance(value, list):
        return _days_of_week(",".join(str(v) for v in value))
    return value


Weekdays = Annotated[tuple[int, ...], BeforeValidator(_days_of_week)]


def _path_text(value: Any) -> Any:
    """Refuse a NUL in a path early: the file system would refuse it later."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a path cannot contain a NUL character")
    return value


PathText = Annotated[str, BeforeValidator(_path_text)]


class SendWindow(Strict):
    """When messages may go out, in the policy's timezone."""

    days: Weekdays = (0, 1, 2, 3, 4)
    start: time = Field(time(9, 0), alias="from")
    until: time = time(17, 0)
    holidays: bool = False  # whether to send on public holidays

    @field_validator("start", "until", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        # YAML reads 9:00 as the number 540, which pydantic would take as seconds
        # past midnight UTC: only a written time of day is a time here.
        if isinstance(value, str | time):
            return value
        raise ValueError('write a time of day in quotes, such as "09:00"')

    @field_validator("start", "until")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a time of day without a timezone; 'timezone' says it")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.start >= self.until:
            raise ValueError("'from' must be before 'until'")
        return self


class Schedule(Strict):
    """How often the daemon runs a cycle of each source."""

    every: str = "15 minutes"
    misfire_grace: str = "10 minutes"

    @field_validator("every", "misfire_grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_minutes(value)
        return value

    @property
    def every_minutes(self) -> int:
        return parse_minutes(self.every)

    @property
    def misfire_grace_s(self) -> int:
        return parse_minutes(self.misfire_grace) * 60


def parse_minutes(text: str) -> int:
    """Read ``15 minutes``, ``1 hour`` or ``1 day`` as a number of minutes."""
    match = re.fullmatch(r"\s*(\d+)\s*(minutes?|min|m|hours?|h|days?|d)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like '15 minutes' or '1 hour'")
    count, unit = int(match.group(1)), match.group(2)[0]
    return count * {"m": 1, "h": 60, "d": 1440}[unit]


class Sender(Strict):
    """Who the messages come from."""

    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    reply_to: str | None = None
    phone: str = ""
    iban: str = ""
    address: str = ""


class Smtp(Strict):
    """The mail server; without one, messages go to the outbox directory."""

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretRef | None = None
    timeout_s: float = 30.0
    ca_file: PathText | None = None


class Source(BaseModel):
    """One connection to one administration; the adapter validates the rest."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    adapter: str

    def options(self) -> dict[str, Any]:
        """The adapter-specific settings, without name and adapter."""
        return dict(self.model_extra or {})


class SegmentMatch(Strict):
    """Which debtors a segment takes; every condition given must hold."""

    debtor_kind: DebtorKind | None = None
    tag: str | None = None
    tags_any: tuple[str, ...] = ()
    language: str | None = None
    min_open_amount: Decimal | None = None
    max_open_amount: Decimal | None = None


class Segment(Strict):
    """A named group of debtors and the plan that applies to them."""

    name: str
    when: SegmentMatch = SegmentMatch()
    plan: str | None = None
    exclude: bool = False

    @model_validator(mode="after")
    def _plan_or_exclude(self) -> Segment:
        if self.plan is None and not self.exclude:
            raise ValueError("a segment needs a plan, or exclude: true")
        return self


AFTER_PATTERN = re.compile(
    r"^\s*(?P<n>\d+)\s+(?P<business>business\s+)?days?\s+"
    r"(?:(?P<due>past\s+due)|after\s+(?P<step>[a-z0-9_-]+))\s*$"
)
EXPIRED_PATTERN = re.compile(r"^\s*(?P<step>[a-z0-9_-]+)\s+expired\s*$")


class After(Strict):
    """When a step becomes due: days after the due date or after an earlier step."""

    days: int = Field(ge=0)
    business: bool = False
    step: str | None = None  # None means: after the due date
    expired: bool = False  # after the term of that step's 14-day letter ran out

    def __str__(self) -> str:
        if self.expired:
            return f"{self.step} expired"
        unit = "business days" if self.business else "days"
        anchor = "past due" if self.step is None else f"after {self.step}"
        return f"{self.days} {unit} {anchor}"


def _after(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    expired = EXPIRED_PATTERN.match(value)
    if expired:
        return {"days": 0, "step": expired["step"], "expired": True}
    match = AFTER_PATTERN.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not understood; write e.g. '3 days past due',"
            " '5 business days past due', '7 days after reminder' or"
            " 'fourteen-day-letter expired'"
        )
    return {
        "days": int(match["n"]),
        "business": bool(match["business"]),
        "step": match["step"],
    }


class StepCondition(Strict):
    """Conditions under which a step applies to an invoice."""

    min_open_amount: Decimal | None = None
    debtor_kind: DebtorKind | None = None


ACTION_KINDS = ("email", "task", "note", "letter", "handover")
LETTER_KINDS = ("reminder", "demand", "fourteen_day")


class Charge(Strict):
    """What a step adds to the claim: collection costs and statutory interest.

    For consumers (and small businesses treated as consumers) costs are charged
    only after a 14-day letter whose term ran out unpaid; the planner checks it.
    """

    costs: Literal["statutory", "contract", "none"] = "none"
    interest: Literal["statutory", "none"] = "none"


class Step(Strict):
    """One rung of a plan: when it is due, for whom, and the one action it takes."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    after: Annotated[After, BeforeValidator(_after)]
    when: StepCondition = StepCondition()
    # A template name, as the renderer accepts them: never a path.
    email: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    task: str | None = None
    note: str | None = None
    letter: Literal["reminder", "demand", "fourteen_day"] | None = None
    handover: str | None = None
    delivery: Literal["email", "post"] = "email"
    charge: Charge | None = None
    attach: tuple[Literal["letter", "invoices"], ...] = ()
    assignee: str | None = None
    approval: Literal["required", "none"] = "none"

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [kind for kind in ACTION_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            kinds = ", ".join(ACTION_KINDS)
            raise ValueError(f"a step takes exactly one action of: {kinds}")
        return self

    @property
    def action(self) -> str:
        """The channel of this step's action."""
        return next(k for k in ACTION_KINDS if getattr(self, k) is not None)

    @property
    def needs_approval(self) -> bool:
        return self.approval == "required"

    @property
    def is_fourteen_day_letter(self) -> bool:
        return self.letter == "fourteen_day"


class ContractCosts(Strict):
    """Collection costs agreed with business customers: an amount or a percentage."""

    fixed: Decimal | None = None
    percent: Decimal | None = None

    @model_validator(mode="after")
    def _one(self) -> ContractCosts:
        if (self.fixed is None) == (self.percent is None):
            raise ValueError("give either fixed or percent")
        return self


class Law(Strict):
    """How the Dutch collection rules apply to this creditor."""

    creditor_deducts_vat: bool = True
    vat_rate: Decimal = Decimal("0.21")
    small_business_tag: str | None = None  # debtors with this tag count as consumers
    contract_costs: ContractCosts | None = None
    after_paid: Literal["claim", "waive"] = "claim"


class Agency(Strict):
    """A collection agency: where dossiers go."""

    folder: PathText | None = None
    webhook: str | None = None
    webhook_secret: SecretRef | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> Agency:
        if self.folder is None and self.webhook is None:
            raise ValueError("an agency needs a folder or a webhook")
        return self


class Defaults(Strict):
    """Defaults for every plan."""

    language: str = "nl"
    min_open_amount: Decimal = Decimal("5.00")
    one_message_per_debtor: bool = True


class Policy(Strict):
    """The whole ``dunning.yaml``."""

    timezone: str = "Europe/Amsterdam"
    calendar: str = "NL"
    send_window: SendWindow = Field(
        default_factory=lambda: SendWindow.model_validate({})
    )
    schedule: Schedule = Schedule()
    sender: Sender
    smtp: Smtp | None = None
    templates: PathText = "templates"
    outbox: PathText = "outbox"
    sources: tuple[Source, ...] = Field(min_length=1)
    segments: tuple[Segment, ...] = Field(min_length=1)
    plans: dict[str, tuple[Step, ...]]
    defaults: Defaults = Defaults()
    law: Law = Law()
    agencies: dict[str, Agency] = Field(default_factory=dict)
    print_folder: PathText = "print"

    base_dir: Path = Field(Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        if value.upper() != "NL":
            raise ValueError(f"calendar {value!r} is not supported; use NL")
        return value.upper()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def template_dir(self) -> Path:
        return (self.base_dir / self.templates).resolve()

    def outbox_dir(self) -> Path:
        return (self.base_dir / self.outbox).resolve()

    def print_dir(self) -> Path:
        return (self.base_dir / self.print_folder).resolve()

    def folder(self, path: str) -> Path:
        return (self.base_dir / path).resolve()

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"no source named {name!r} in the policy")


def load_policy(path: Path, secrets: Callable[[str], str] | None = None) -> Policy:
    """Read and validate a policy file; raise ConfigError for the first problem.

    `check_policy` gives all problems; this raises the first, for commands that
    only need to know whether they may run.
    """
    policy, problems = check_policy(path, secrets)
    if problems:
        raise problems[0]
    assert policy is not None
    return policy


def check_policy(
    path: Path, secrets: Callable[[str], str] | None = None
) -> tuple[Policy | None, list[ConfigError]]:
    """Validate a policy file and return it with every problem found.

    With ``secrets``, every secret the policy names must be set.
    """
    try:
        doc = load_located(path)
    except ConfigError as exc:  # unreadable: that is the one problem to report
        return None, [exc]
    if not isinstance(doc.data, dict):
        return None, [doc.error((), "the policy must be a mapping of keys to values")]
    try:
        policy = Policy.model_validate({**doc.data, "base_dir": path.parent})
    except ValidationError as exc:
        return None, [_located(doc, err) for err in exc.errors()]
    problems = _check_references(policy, doc)
    problems.extend(_check_sources(policy, doc))
    problems.extend(_check_templates(policy, doc))
    if secrets is not None:
        problems.extend(_check_secrets(doc, secrets))
    return policy, problems


def _located(doc: LocatedDocument, err: Any) -> ConfigError:
    loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
    where = ".".join(str(p) for p in loc) or "policy"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
        where = ".".join(str(p) for p in loc[:-1]) or "policy"
    elif err["type"] == "missing":
        message = f"missing key {loc[-1]!r}"
        where = ".".join(str(p) for p in loc[:-1]) or "policy"
        loc = loc[:-1]
    return doc.error(loc, f"{where}: {message}")


def _check_references(policy: Policy, doc: LocatedDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    names = [s.name for s in policy.sources]
    for index, name in enumerate(names):
        if names.index(name) != index:
            problems.append(doc.error(("sources", index), f"duplicate source {name!r}"))
    for index, segment in enumerate(policy.segments):
        if segment.plan is not None and segment.plan not in policy.plans:
            path = ("segments", index, "plan")
            problems.append(doc.error(path, f"unknown plan {segment.plan!r}"))
    for plan_name, steps in policy.plans.items():
        problems.extend(_check_plan(plan_name, steps, doc))
    problems.extend(_check_steps(policy, doc))
    return problems


def _check_steps(policy: Policy, doc: LocatedDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    for name, steps in policy.plans.items():
        by_id = {step.id: step for step in steps}
        for index, step in enumerate(steps):
            path = ("plans", name, index)
            anchor = by_id.get(step.after.step or "")
            if step.after.expired and anchor and not anchor.is_fourteen_day_letter:
                problems.append(
                    doc.error(
                        (*path, "after"),
                        f"'{step.after}' needs {step.after.step!r} to be a"
                        " fourteen_day letter",
                    )
                )
            if step.handover is not None and step.handover not in policy.agencies:
                problems.append(
                    doc.error((*path, "handover"), f"unknown agency {step.handover!r}")
                )
    return problems


def _check_plan(
    name: str, steps: tuple[Step, ...], doc: LocatedDocument
) -> list[ConfigError]:
    problems: list[ConfigError] = []
    seen: list[str] = []
    last_past_due = -1
    if not steps:
        problems.append(doc.error(("plans", name), f"plan {name!r} has no steps"))
    for index, step in enumerate(steps):
        path = ("plans", name, index)
        if step.id in seen:
            problems.append(doc.error((*path, "id"), f"duplicate step id {step.id!r}"))
        anchor = step.after.step
        if anchor is not None and anchor not in seen:
            problems.append(
                doc.error(
                    (*path, "after"),
                    f"step {step.id!r} comes after {anchor!r}, which is not an"
                    f" earlier step of plan {name!r}",
                )
            )
        if anchor is None:
            if step.after.days < last_past_due:
                problems.append(
                    doc.error(
                        (*path, "after"),
                        f"step {step.id!r} is due {step.after}, before the step"
                        " ahead of it in the plan; steps are taken in order",
                    )
                )
            last_past_due = step.after.days
        seen.append(step.id)
    return problems


def _check_sources(policy: Policy, doc: LocatedDocument) -> list[ConfigError]:
    from adapters.base import load_adapter

    problems: list[ConfigError] = []
    for index, source in enumerate(policy.sources):
        path = ("sources", index)
        try:
            factory = load_adapter(source.adapter)
        except ConfigError as exc:
            problems.append(doc.error((*path, "adapter"), exc.detail))
            continue
        try:
            factory.Options.model_validate(source.options())
        except ValidationError as exc:
            for err in exc.errors():
                located = {**err, "loc": (*path, *err["loc"])}
                problems.append(_located(doc, located))
    return problems


def _check_templates(policy: Policy, doc: LocatedDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    directory = policy.template_dir()
    language = policy.defaults.language
    for plan_name, steps in policy.plans.items():
        for index, step in enumerate(steps):
            if step.email is None:
                continue
            wanted = directory / language / f"{step.email}.txt"
            if not wanted.is_file():
                path = ("plans", plan_name, index, "email")
                problems.append(
                    doc.error(path, f"unknown template {step.email!r} (no {wanted})")
                )
    return problems


def _check_secrets(
    doc: LocatedDocument, secrets: Callable[[str], str]
) -> list[ConfigError]:
    problems: list[ConfigError] = []
    for path, name in _secret_refs(doc.data, ()):
        try:
            secrets(name)
        except ConfigError as exc:
            problems.append(doc.error(path, exc.detail))
    return problems


def _secret_refs(
    data: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, dict):
        if set(data) == {"secret"} and isinstance(data["secret"], str):
            yield path, data["secret"]
            return
        for key, value in data.items():
            yield from _secret_refs(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _secret_refs(value, (*path, index))
