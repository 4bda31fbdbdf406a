"""Hostile values derived from botocore's shapes: for each string member of a response, values an
account holder could give it within the member's model constraints (its pattern, min and max
length, its enum), chosen to break what reads it.

Nothing here is a hand list of "bad names": each candidate is built from the member's own value
and shape, and kept only when the shape allows it:

- ``unsafe``: terminal escapes, CR, BEL, a bidi override and a zero-width space, appended (then
  prepended) to the real value, so prefixes such as ``arn:`` or ``s3://`` that patterns demand
  still hold;
- ``long``: the real value padded to the member's maximum length (2,048 where the model sets none)
  with a character the pattern allows;
- ``syntax``: characters that URI, ARN and name parsers treat specially (``[``, ``]``, a space,
  ``!``, ``%``, ``#``, ``?``, ``@``, ``:``, ``/``, a backslash, a non-ASCII letter) put right after
  a scheme's ``://`` or at the start of the value;
- ``enum``: every other value of an enum member.

``search_values`` adds values that hypothesis draws from the member's pattern itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

UNSAFE = "\x1b[2K\x1b[GCOMPLIANT\r\x07\u202e\u200b"
SYNTAX = "[]!%#?@:/\\ é𝔘"
DEFAULT_MAX = 2048  # members the model leaves unbounded: longer than any name AWS accepts


@dataclass(frozen=True)
class Constraints:
    pattern: re.Pattern[str] | None
    min: int
    max: int
    enum: tuple[str, ...]

    def allows(self, value: str) -> bool:
        if self.enum:
            return value in self.enum
        if not self.min <= len(value) <= self.max:
            return False
        return self.pattern is None or self.pattern.fullmatch(value) is not None


def constraints(shape: Any) -> Constraints:
    metadata = shape.metadata
    pattern = metadata.get("pattern")
    compiled = None
    if pattern:
        # botocore's patterns are Java regular expressions; the few \p{...} classes map onto
        # Python's by their meaning (\p{L} letters, \p{N} digits...): approximate as "any".
        compiled = re.compile(re.sub(r"\\[pP]\{[^}]+\}", ".", pattern), re.DOTALL)
    return Constraints(compiled, int(metadata.get("min", 0)), int(metadata.get("max", DEFAULT_MAX)),
                       tuple(getattr(shape, "enum", None) or ()))


def _padding(c: Constraints, value: str) -> Iterator[str]:
    for char in ("a", "0", "A", "-", "x", "/", "."):
        yield value + char * (c.max - len(value))


def candidates(shape: Any, value: str) -> dict[str, str]:
    """Label -> hostile value for a string member whose real value is ``value``."""
    c = constraints(shape)
    found: dict[str, str] = {}
    if c.enum:
        for other in c.enum:
            if other != value:
                found[f"enum {other}"] = other
        return found
    for label, tries in (
            ("unsafe", (value + UNSAFE, UNSAFE + value, value[:1] + UNSAFE + value[1:])),
            ("long", _padding(c, value)),
            ("syntax", _syntax(value))):
        for candidate in tries:
            if candidate != value and c.allows(candidate):
                found[label] = candidate
                break
    return found


def _syntax(value: str) -> Iterator[str]:
    scheme = value.find("://")
    at = scheme + 3 if scheme >= 0 else 0
    yield value[:at] + "[" + value[at:]  # urlparse: "Invalid IPv6 URL"
    yield value[:at] + "Bad Bucket!" + value[at:].split("/", 1)[-1:][0] if scheme >= 0 else value
    for char in SYNTAX:
        yield value[:at] + char + value[at:]
        yield value + char


def string_members(shape: Any, value: Any, prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """(path, shape, value) of every string member present in ``value`` ("A.B[].C": every list
    item; map values as "A.B{}"), in the order they appear."""
    if shape is None:
        return
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        yield prefix, shape, value
    elif kind == "list" and isinstance(value, list):
        for item in value:
            yield from string_members(shape.member, item, prefix + "[]")
    elif kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                yield from string_members(member, value[name], f"{prefix}.{name}" if prefix else name)
