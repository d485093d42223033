"""Wiring: a policy, a store, adapters and channels, ready to run cycles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import structlog

from adapters.base import Adapter, SourceContext, load_adapter
from connector.channels.email import SmtpChannel, SmtpSettings
from connector.channels.outbox import OutboxChannel
from connector.cycle import Cycle, CycleResult
from connector.errors import DunningError
from connector.execute import Sender
from connector.policy import Policy, Source
from connector.settings import Secrets, Settings
from connector.store import Store

Clock = Callable[[], datetime]
log = structlog.get_logger("dunning.runtime")


def system_clock() -> datetime:
    """The real time, as an aware UTC datetime."""
    return datetime.now(UTC)


class Runtime:
    """Everything one process needs to run cycles of the policy's sources."""

    def __init__(
        self,
        policy: Policy,
        store: Store,
        secrets: Callable[[str], str],
        *,
        clock: Clock = system_clock,
        dry_run: bool = False,
        state_dir: Path = Path("state"),
    ):
        self.policy = policy
        self.store = store
        self.secrets = secrets
        self.clock = clock
        self.dry_run = dry_run
        self.state_dir = state_dir

    @classmethod
    def from_settings(
        cls, policy: Policy, settings: Settings, *, dry_run: bool = False
    ) -> Runtime:
        store = Store.open(settings.state_url)
        secrets = Secrets(settings.secrets_dir)
        return cls(policy, store, secrets, dry_run=dry_run)

    def adapter_for(self, source: Source) -> Adapter:
        """Create the adapter of one source from its options."""
        factory = load_adapter(source.adapter)
        options = factory.Options.model_validate(source.options())
        context = SourceContext(
            name=source.name,
            secret=self.secrets,
            now=self.clock,
            state_dir=str(self.state_dir),
            store=self.store,
            base_dir=str(self.policy.base_dir),
        )
        return factory.create(options, context)

    def mailer(self) -> AbstractContextManager[Sender]:
        """The email channel: SMTP when configured, else the outbox directory."""
        smtp = self.policy.smtp
        if smtp is None or self.dry_run:
            return _outbox(self.policy.outbox_dir())
        password = self.secrets(smtp.password.secret) if smtp.password else None
        settings = SmtpSettings(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=password,
            timeout_s=smtp.timeout_s,
            ca_file=smtp.ca_file,
        )
        return SmtpChannel(settings)

    def run_source(self, name: str) -> CycleResult:
        """One cycle of one source; never two at once for the same source."""
        source = self.policy.source(name)
        today = self.clock().astimezone(self.policy.tz).date()
        try:
            adapter = self.adapter_for(source)
        except DunningError as exc:
            log.error("cycle_finished", source=name, status="failed", error=str(exc))
            if not self.dry_run:
                now = self.clock()
                cycle_id = self.store.start_cycle(name, now)
                summary = {"status": "failed", "error": str(exc)}
                self.store.finish_cycle(cycle_id, "failed", summary, now)
            return CycleResult(name, "failed", today, error=str(exc))
        try:
            with self.store.lease(f"cycle:{name}", ttl_s=120, wait_s=0.5, renew=True):
                cycle = Cycle(
                    self.policy,
                    name,
                    self.store,
                    adapter,
                    self.mailer,
                    self.clock,
                    dry_run=self.dry_run,
                    secrets=self.secrets,
                )
                return cycle.run()
        except TimeoutError:
            log.warning("cycle_overlap", source=name)
            return CycleResult(name, "busy", today, error="another cycle is running")
        finally:
            adapter.close()

    def run_all(self) -> list[CycleResult]:
        """One cycle of every source; one source failing does not stop the others."""
        return [self.run_source(source.name) for source in self.policy.sources]


@contextmanager
def _outbox(directory: Path) -> Iterator[Sender]:
    yield OutboxChannel(directory)
