"""Process settings from the environment, and the secrets the policy names."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from connector.errors import SecretMissing


class Settings(BaseSettings):
    """Where state lives and how the process logs; read from ``DUNNING_*``."""

    model_config = SettingsConfigDict(env_prefix="DUNNING_", extra="ignore")

    state_url: str = "sqlite:///state/dunning.db"
    secrets_dir: Path | None = None
    log_format: str = "auto"  # auto | json | console
    log_level: str = "INFO"


class Secrets:
    """Looks up a named secret in the environment, then in the secrets directory.

    A secrets directory holds one file per secret, named after it (as Docker and
    Kubernetes mount them). Values are never logged; a missing one raises
    SecretMissing naming the secret, not its value.
    """

    def __init__(
        self, directory: Path | None = None, environ: dict[str, str] | None = None
    ):
        self._directory = directory
        self._environ = os.environ if environ is None else environ

    def __call__(self, name: str) -> str:
        value = self._environ.get(name)
        if value:
            return value
        if self._directory is not None:
            path = self._directory / name
            if path.is_file():
                value = path.read_text(encoding="utf-8").strip()
                if value:
                    return value
        where = "the environment"
        if self._directory is not None:
            where += f" or {self._directory}"
        raise SecretMissing(f"secret {name!r} is not set in {where}")

    def has(self, name: str) -> bool:
        """Whether the secret is set, without reading it out."""
        try:
            self(name)
        except SecretMissing:
            return False
        return True
