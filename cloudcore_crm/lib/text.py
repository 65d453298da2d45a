"""Text that is safe where it lands: one line, no control characters.

`single_line()` is for every single-line field on every write path (forms, imports, the
webhook, the admin): CR, LF, tab and the other control characters (NUL included) would
break an email header, a CSV or a download's file name later. `safe_filename()` builds a
download's `Content-Disposition` name; `email_subject()` an email subject.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SPACES_RE = re.compile(r"\s{2,}")
FILENAME_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._ -]")


def has_control(value: str) -> bool:
    return bool(CONTROL_RE.search(value))


def single_line(value: object) -> object:
    """The value with every control character turned into a space, runs of spaces folded
    and the ends trimmed; anything that is not a string is returned as it is."""
    if not isinstance(value, str):
        return value
    if not CONTROL_RE.search(value):
        return value
    return SPACES_RE.sub(" ", CONTROL_RE.sub(" ", value)).strip()


def email_subject(text: str, *, limit: int = 150) -> str:
    """An email subject: one line (Django refuses a header with a newline), bounded."""
    subject = str(single_line(str(text)))
    return subject if len(subject) <= limit else subject[: limit - 1].rstrip() + "…"


def safe_filename(text: str, *, default: str = "download", limit: int = 100) -> str:
    """A download file name of plain ASCII letters, digits, dots, dashes and spaces: no
    quote, slash, semicolon or newline can break the Content-Disposition header."""
    ascii_text = unicodedata.normalize("NFKD", str(single_line(str(text)))).encode("ascii", "ignore").decode()
    name = FILENAME_UNSAFE_RE.sub("_", ascii_text).strip(" .")
    return name[:limit] or default
