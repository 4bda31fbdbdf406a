"""Text that cannot forge what a reader sees.

Names, tags, URIs and policy text are written by account holders, and some of them want a
finding to look like something else. A terminal obeys ESC sequences (``\\x1b[2K`` erases the line,
so ``NON_COMPLIANT`` can be overwritten with ``COMPLIANT``), CR returns to the start of the line,
bidi overrides (U+202E) reverse what follows, and zero-width characters make two different names
look the same. Every such character is shown as a visible escape (``\\x1b``, ``\\u202e``) wherever
text reaches a person: in annotations when they are made, and again in every renderer (rows can
also come from saved reports and Config, which other code wrote).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; the bidi embeddings, overrides, isolates and marks; zero-width
# characters and the word joiner; the line and paragraph separators; the byte order mark; the
# interlinear annotation controls (U+FFF9-U+FFFB); the tag characters (U+E0000-U+E007F), which
# draw nothing and can carry hidden text.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_ORDINARY_SPACE = re.compile("[ \t\n]+")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_unsafe(text: str) -> str:
    """``text`` with every character of UNSAFE_CHARACTERS written as a visible escape."""
    return UNSAFE_CHARACTERS.sub(_escaped, text)


def one_line(text: str) -> str:
    """``text`` as one visible line: runs of spaces, tabs and newlines become one space (our own
    messages wrap across source lines), every other unsafe character is escaped."""
    return escape_unsafe(_ORDINARY_SPACE.sub(" ", text).strip())
