"""Writing files so that a reader never sees half of one, with ordinary permissions; reading
the JSON files a user hands over without a traceback, whatever is wrong with them."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any


class UnreadableJson(ValueError):
    """A JSON file that cannot be used at all; the message names the file and why."""


def read_json(path: str) -> Any:
    """The parsed file; a missing file, bytes that are not UTF-8, an empty or truncated file,
    or nesting too deep for the parser each raise `UnreadableJson` with one line."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UnreadableJson(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UnreadableJson(
            f"{path}: not UTF-8 text (byte {exc.start}): not a file pytest-mlperf wrote"
        ) from None
    if not text.strip():
        raise UnreadableJson(f"{path}: the file is empty (truncated?)")
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableJson(f"{path}: nested too deeply to be a pytest-mlperf file") from None
    except ValueError as exc:
        raise UnreadableJson(f"{path}: not valid JSON (truncated or corrupted?): {exc}") from None


def new_temp_file(folder: str, name: str) -> tuple[int, str]:
    """A new, exclusive temporary file next to `name`'s final place: (fd, path).

    Created with 0666 less the umask, not mkstemp's private 0600, so CI artifact uploaders
    and web servers can read what is renamed into place.
    """
    tmp = os.path.join(folder, f".tmp-{secrets.token_hex(8)}-{name}")
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
