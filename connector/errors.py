"""The one exception tree of the connector, split by what the caller should do.

    DunningError
    ├── ConfigError            the policy or settings are wrong: stop before running
    │   └── SecretMissing      a secret the policy names is not set
    ├── SourceError            talking to a bookkeeping package went wrong
    │   ├── RetriableError     429, 5xx, timeouts: try again later, with backoff
    │   │   └── BudgetExhausted  the API's daily budget is spent: end the cycle,
    │   │                        mark it incomplete, decide nothing from it
    │   └── FatalSourceError   auth, permissions, bad requests: stop this source
    │       └── NeedsReauthorisation  the stored grant can no longer be refreshed
    ├── RecordError            one record from a source makes no sense: skip it
    └── ChannelError           a channel could not carry out an action
        ├── ChannelRetriable   try the action again in a later cycle (SMTP 4xx)
        └── ChannelFailed      the action fails with this reason (SMTP 5xx)

Low layers raise; the cycle catches and logs once. Third-party errors are translated
at the boundary with ``raise ... from``.
"""

from __future__ import annotations


class DunningError(Exception):
    """Root of every error the connector raises on purpose."""


class ConfigError(DunningError):
    """The policy, a template or a setting is wrong; nothing may run."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None
    ):
        self.file = file
        self.line = line
        self.detail = message
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{message}")


class SecretMissing(ConfigError):
    """A secret the policy refers to is not set in the environment or secrets dir."""


class SourceError(DunningError):
    """A bookkeeping API call failed."""


class RetriableError(SourceError):
    """A failure that may pass: rate limit, server error, timeout."""

    def __init__(self, message: str, *, wait_s: float | None = None):
        self.wait_s = wait_s
        super().__init__(message)


class BudgetExhausted(RetriableError):
    """The API's budget for the day (or minute) is spent; the cycle is incomplete."""


class FatalSourceError(SourceError):
    """A failure that will not pass by retrying: stop this source, tell the operator."""


class NeedsReauthorisation(FatalSourceError):
    """The grant cannot be refreshed any more; a person must authorise again."""


class RecordError(DunningError):
    """One record from a source cannot be used; it is skipped with this reason."""


class ChannelError(DunningError):
    """A channel could not carry out an action."""


class ChannelRetriable(ChannelError):
    """The channel refused for now (for example SMTP 4xx); try again later."""


class ChannelFailed(ChannelError):
    """The channel refused for good (for example SMTP 5xx)."""
