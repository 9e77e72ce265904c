"""Where the scan's password comes from: $KBSCAN_PASSWORD, the system keyring, or a prompt.

The password is never a command-line argument (it would show in the process list and
shell history) and is never written anywhere by kbscan.
"""

from __future__ import annotations

import getpass
import os
import sys

from kbscan.errors import KbscanError

PASSWORD_ENV = "KBSCAN_PASSWORD"
NO_PASSWORD_TRANSPORTS = ("certificate",)
# Kerberos logs on with a password where one is given (the environment or the keyring),
# else with the operator's ticket cache: never a prompt.
TICKET_TRANSPORTS = ("kerberos",)


class CredentialError(KbscanError):
    """No password could be had, or the keyring failed."""


def obtain_password(
    transport: str, username: str | None, keyring_service: str | None
) -> str | None:
    if transport in NO_PASSWORD_TRANSPORTS:
        return None
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if keyring_service:
        try:
            import keyring
        except ImportError:
            raise CredentialError(
                "--keyring needs the keyring package: pip install 'kbscan[keyring]'"
            ) from None
        try:
            found = keyring.get_password(keyring_service, username or "")
        except Exception as exc:  # keyring backends raise their own types
            raise CredentialError(f"the keyring failed: {type(exc).__name__}") from None
        if found is None:
            raise CredentialError(
                f"no password for {username!r} in keyring service {keyring_service!r}"
            )
        return str(found)
    if transport in TICKET_TRANSPORTS:
        return None
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Password for {username or 'the scan account'}: ")
    raise CredentialError(
        f"no password: set {PASSWORD_ENV}, use --keyring SERVICE, or run on a terminal to be asked"
    )
