"""A minimal CloudWatch Logs filter-pattern matcher: does a metric filter's pattern match a log
event? Rules use it to judge metric filters over a trail's log group by matching sample CloudTrail
records of Transcribe API calls.

Supported, following the CloudWatch Logs User Guide, "Filter pattern syntax for metric filters,
subscription filters, filter log events" and "Using filter patterns to match terms in JSON log
events" (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html,
matching-terms-json-log-events.html):

- JSON patterns ``{ <expression> }``: comparisons ``$.field <op> value`` on a property selector
  (``$.a.b``, ``$.a[0]``) with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; values quoted or bare,
  ``*`` as a wildcard in string values (``"AccessDenied*"``); ``IS NULL``, ``IS TRUE``,
  ``IS FALSE``, ``NOT EXISTS``; ``&&`` and ``||`` (``&&`` binds tighter) and parentheses. A
  comparison on a property the event does not have does not match.
- Term patterns for unstructured text: the empty pattern matches every event; bare or quoted terms
  must all appear (case-sensitive), ``?term`` terms match when any appears, ``-term`` excludes.

Not supported, and therefore never matching (a filter we cannot read is not credited): regular
expressions (``%...%``), space-delimited patterns (``[...]``) and anything malformed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

_MISSING = object()


class _Unsupported(Exception):
    pass


def matches(pattern: str, record: Mapping[str, Any]) -> bool:
    """True when a log event whose message is ``record`` as JSON matches ``pattern``."""
    text = (pattern or "").strip()
    try:
        if text.startswith("{"):
            return _JsonPattern(text).evaluate(record)
        if text.startswith("["):
            raise _Unsupported("space-delimited patterns")
        return _match_terms(text, json.dumps(record))
    except _Unsupported:
        return False


# --- term patterns --------------------------------------------------------------------------------

_TERM = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _match_terms(pattern: str, message: str) -> bool:
    required: list[str] = []
    any_of: list[str] = []
    excluded: list[str] = []
    for prefix, quoted, bare in _TERM.findall(pattern):
        term = quoted if quoted or bare == "" else bare
        if "%" in term[:1]:
            raise _Unsupported("regular expressions")
        {"": required, "?": any_of, "-": excluded}[prefix].append(term.replace('\\"', '"'))
    if any(term in message for term in excluded):
        return False
    if any_of and not any(term in message for term in any_of):
        return False
    return all(term in message for term in required)


# --- JSON patterns --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<and>&&) | (?P<or>\|\|) | (?P<open>\() | (?P<close>\)) |
      (?P<op>!=|<=|>=|=|<|>) |
      (?P<selector>\$(?:\.[A-Za-z0-9_@\-]+|\[\d+\])*) |
      (?P<string>"(?:[^"\\]|\\.)*") |
      (?P<regex>%[^%]*%) |
      (?P<word>[^\s()&|=!<>"]+)
    )""", re.VERBOSE)


class _JsonPattern:
    def __init__(self, text: str):
        if not text.endswith("}"):
            raise _Unsupported("unterminated JSON pattern")
        self.tokens = self._tokenize(text[1:-1])
        self.position = 0

    @staticmethod
    def _tokenize(body: str) -> list[tuple[str, str]]:
        tokens, index = [], 0
        while index < len(body):
            if body[index:].strip() == "":
                break
            found = _TOKEN.match(body, index)
            if not found or found.end() == index:
                raise _Unsupported(f"cannot read {body[index:]!r}")
            kind = found.lastgroup or ""
            if kind == "regex":
                raise _Unsupported("regular expressions")
            tokens.append((kind, found.group(kind)))
            index = found.end()
        return tokens

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        test = self._expression()
        if self.position != len(self.tokens):
            raise _Unsupported("trailing tokens")
        return test(record)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, kind: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (kind is not None and token[0] != kind):
            raise _Unsupported(f"expected {kind}")
        self.position += 1
        return token

    def _expression(self) -> Callable[[Any], bool]:
        alternatives = [self._conjunction()]
        while self._peek() and self._peek()[0] == "or":  # type: ignore[index]
            self._take()
            alternatives.append(self._conjunction())
        return lambda record: any(test(record) for test in alternatives)

    def _conjunction(self) -> Callable[[Any], bool]:
        parts = [self._primary()]
        while self._peek() and self._peek()[0] == "and":  # type: ignore[index]
            self._take()
            parts.append(self._primary())
        return lambda record: all(test(record) for test in parts)

    def _primary(self) -> Callable[[Any], bool]:
        token = self._peek()
        if token and token[0] == "open":
            self._take()
            inner = self._expression()
            self._take("close")
            return inner
        selector = self._take("selector")[1]
        following = self._peek()
        if following and following[0] == "word" and following[1] in ("IS", "NOT"):
            return self._keyword_test(selector)
        operator = self._take("op")[1]
        kind, raw = self._take()
        if kind == "string":
            value: Any = json.loads(raw)
            quoted = True
        elif kind == "word":
            value, quoted = raw, False
        else:
            raise _Unsupported("expected a value")
        return lambda record: _compare(_select(record, selector), operator, value, quoted)

    def _keyword_test(self, selector: str) -> Callable[[Any], bool]:
        first = self._take("word")[1]
        second = self._take("word")[1]
        if first == "NOT" and second == "EXISTS":
            return lambda record: _select(record, selector) is _MISSING
        if first == "IS" and second in ("NULL", "TRUE", "FALSE"):
            expected = {"NULL": None, "TRUE": True, "FALSE": False}[second]
            return lambda record: _select(record, selector) is expected
        raise _Unsupported(f"{first} {second}")


def _select(record: Any, selector: str) -> Any:
    value = record
    for name, index in re.findall(r"\.([A-Za-z0-9_@\-]+)|\[(\d+)\]", selector[1:]):
        if name:
            if not isinstance(value, Mapping) or name not in value:
                return _MISSING
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _as_number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _compare(actual: Any, operator: str, expected: Any, quoted: bool) -> bool:
    if actual is _MISSING or isinstance(actual, (Mapping, list)):
        return False
    if operator in ("<", "<=", ">", ">="):
        left, right = (None if isinstance(actual, bool) else _as_number(actual)), _as_number(expected)
        if left is None or right is None:
            return False
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[operator]
    if isinstance(actual, bool):
        text = "true" if actual else "false"
    elif actual is None:
        text = "null"
    elif isinstance(actual, (int, float)):
        number = _as_number(expected)
        equal = not quoted and number is not None and float(actual) == number
        return equal if operator == "=" else not equal
    else:
        text = str(actual)
    pattern = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", str(expected)))
    equal = re.fullmatch(pattern, text, re.DOTALL) is not None
    return equal if operator == "=" else not equal
