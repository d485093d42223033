"""``dunning auth exact``: consent for one Exact Online source, tokens stored.

The command reads the source's options from the policy, runs the consent flow
(browser, loopback redirect or a pasted address), stores the first token pair
in the state store and checks that the consent covers the configured division.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from adapters.base import load_adapter
from adapters.exact.adapter import ExactOptions
from adapters.exact.client import ExactClient
from adapters.exact.consent import run_consent_flow
from adapters.exact.tokens import TokenManager
from connector.errors import ConfigError, FatalSourceError
from connector.policy import Policy, Source, load_policy
from connector.settings import Secrets, Settings
from connector.store import Store

ADAPTER = "exact"


def auth_command(
    config: Path,
    source: str | None,
    *,
    open_url: Callable[[str], object] = webbrowser.open,
    echo: Callable[[str], None] = click.echo,
    read_line: Callable[[str], str] | None = None,
    timeout_s: float = 300.0,
) -> None:
    """Authorise the connector for an Exact source (the only one, or ``source``)."""
    settings = Settings()
    secrets = Secrets(settings.secrets_dir)
    chosen = exact_source(load_policy(config, secrets), source)
    options = _options(chosen)
    client_id = secrets(options.client_id_secret)
    client_secret = secrets(options.client_secret_secret)
    store = Store.open(settings.state_url)
    try:
        run_consent_flow(
            store,
            chosen.name,
            base_url=options.host(),
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=options.redirect_uri,
            open_url=open_url,
            echo=echo,
            read_line=read_line or _prompt,
            timeout_s=timeout_s,
        )
        tokens = TokenManager(
            store,
            chosen.name,
            client_id,
            client_secret,
            f"{options.host()}/api/oauth2/token",
            _utc_now,
        )
        name = division_name(options, tokens)
    finally:
        store.close()
    echo(f"Division {options.division} ({name}) is reachable.")


def exact_source(policy: Policy, name: str | None) -> Source:
    """The source named ``name``, or the policy's only Exact source."""
    if name is not None:
        found = policy.source(name)
        if found.adapter != ADAPTER:
            raise ConfigError(f"source {name!r} is not an Exact Online source")
        return found
    candidates = [s for s in policy.sources if s.adapter == ADAPTER]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ConfigError("the policy has no Exact Online source")
    names = ", ".join(s.name for s in candidates)
    raise ConfigError(f"several Exact Online sources ({names}); name one: --source")


def division_name(options: ExactOptions, tokens: TokenManager) -> str:
    """The configured division's name; FatalSourceError if consent left it out."""
    client = ExactClient(
        options.host(),
        options.division,
        tokens,
        timeout=(5.0, options.read_timeout_s),
        max_attempts=3,
    )
    try:
        rows = list(client.rows("system/Divisions", ("Code", "Description")))
    except FatalSourceError as exc:
        raise FatalSourceError(
            f"the consent does not cover division {options.division}: choose it "
            f"on Exact's consent page and run `dunning auth exact` again ({exc})"
        ) from None
    finally:
        client.close()
    found = (r for r in rows if str(r.get("Code")) == str(options.division))
    return str(next((r.get("Description") for r in found), "") or "no name")


def _options(source: Source) -> ExactOptions:
    options = load_adapter(ADAPTER).Options.model_validate(source.options())
    if not isinstance(options, ExactOptions):  # another package took the name
        raise ConfigError(f"adapter {ADAPTER!r} is not this Exact Online adapter")
    return options


def _prompt(text: str) -> str:
    return str(click.prompt(text, prompt_suffix=""))


def _utc_now() -> datetime:
    return datetime.now(UTC)
