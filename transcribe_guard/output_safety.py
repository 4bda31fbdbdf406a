"""Every renderer's last step: text that reaches a person cannot forge what they see or run.

Rows reach the table, CSV, HTML and JSON renderers from our own rules, but also from saved reports,
from AWS Config (which other code wrote) and from bundles on disk, so annotations being escaped
when they are made (rules/engine/safe_text.py) is not enough: each renderer escapes again here.

- ``visible``: a value for a terminal or a page. rules.engine.safe_text's characters (C0/C1 controls,
  bidi, zero-width) as visible escapes, plus any other format, control, separator or surrogate
  character (tag characters U+E0000-U+E007F hide text; a lone surrogate, which a JSON file can
  hold, cannot even be written to a UTF-8 stream). Backslashes are left alone: a name that
  spells ``\\x1b`` only makes its own row look odd, it cannot change another row.
- ``csv_cell``: ``visible`` and then guarded against formula injection, for every CSV we write.
- ``json_text``: JSON whose strings carry those characters as ``\\uXXXX`` escapes; the value
  round-trips unchanged, other non-ASCII text stays readable.
- ``pad``/``display_width``: column alignment by terminal cells, not code points.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rules.engine.safe_text import UNSAFE_CHARACTERS, escape_unsafe

# Unicode categories that never draw a glyph of their own: controls, format characters
# (bidi marks, zero-width, tag characters), line/paragraph separators, surrogates.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# OWASP, CSV Injection (https://owasp.org/www-community/attacks/CSV_Injection): no cell may begin
# with = + - @ tab (0x09) carriage return (0x0D) or line feed (0x0A); OWASP ASVS 5.0 V1.2.10
# (https://asvs.emil.hemdal.se/1.2.10) adds NUL. The full-width forms (U+FF1D, U+FF0B, U+FF0D,
# U+FF20) are not in either list and we could not verify that a spreadsheet evaluates them; they
# are guarded anyway (a cost of one apostrophe). Leading spaces are skipped before the check,
# since some spreadsheets trim them on import.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\x00\uff1d\uff0b\uff0d\uff20")


def _escape(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: Any) -> str:
    """``value`` as text every character of which a reader sees (None is the empty string)."""
    text = escape_unsafe("" if value is None else str(value))
    if text.isprintable():  # the common case: nothing left to look at character by character
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _INVISIBLE_CATEGORIES else c for c in text)


def csv_cell(value: Any) -> str:
    """A CSV cell that is visible text and that no spreadsheet runs as a formula (a leading
    apostrophe makes Excel, LibreOffice and Google Sheets read the cell as text)."""
    text = visible(value)
    return "'" + text if text.lstrip(" ")[:1] in FORMULA_TRIGGERS else text


def _json_escape(match: re.Match[str]) -> str:
    return "".join(f"\\u{unit:04x}" for unit in _utf16_units(match.group()))


def _utf16_units(character: str) -> list[int]:
    code = ord(character)
    if code < 0x10000:
        return [code]
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


# What json.dumps(ensure_ascii=False) leaves raw and a terminal or editor would act on or hide.
# C0 is left out: json.dumps escapes it inside strings, and outside them it is the indentation's
# newlines. Outside strings JSON holds only ASCII, so replacing these anywhere in the output only
# rewrites characters inside strings, as the equivalent \uXXXX escape.
_JSON_UNSAFE = re.compile(f"(?![\x00-\x1f])(?:{UNSAFE_CHARACTERS.pattern})|[\U000e0000-\U000e007f\ud800-\udfff]")


def json_text(document: Any, **options: Any) -> str:
    """``json.dumps(document, ensure_ascii=False, **options)`` with the characters of ``visible``
    written as ``\\uXXXX``: json.loads gives back exactly ``document``."""
    return _JSON_UNSAFE.sub(_json_escape, json.dumps(document, ensure_ascii=False, **options))


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide East Asian characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
               for c in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal cells."""
    return text + " " * max(0, width - display_width(text))
