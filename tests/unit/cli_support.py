"""Shared by the ``workstation`` command tests: an in-memory keyring, a scripted prompt.

keyring's own plug-in interface takes the backend, so the tests never read or write the
developer's keyring (and run on machines that have none).
"""

from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

KEY = "AbCdEf0123456789AbCdEf012345WXYZ"
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3t99"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"the collection is locked (tried {username})")


def store(memory: MemoryKeyring, env: str) -> None:
    memory.set_password(f"bitstamp-workstation/{env}", "api_key", KEY)
    memory.set_password(f"bitstamp-workstation/{env}", "api_secret", SECRET)


class Prompt:
    """Answers getpass prompts from a script; records the prompts it was asked."""

    def __init__(self, *answers: str | type[BaseException]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "Password: ", stream: object = None) -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer()
        return answer


def outputs(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err
