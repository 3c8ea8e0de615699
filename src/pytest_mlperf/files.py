"""Writing files so that a reader never sees half of one, with ordinary permissions."""

from __future__ import annotations

import os
import secrets


def new_temp_file(folder: str, name: str) -> tuple[int, str]:
    """A new, exclusive temporary file next to `name`'s final place: (fd, path).

    Created with 0666 less the umask, not mkstemp's private 0600, so CI artifact uploaders
    and web servers can read what is renamed into place.
    """
    tmp = os.path.join(folder, f".tmp-{secrets.token_hex(8)}-{name}")
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
