"""``scan --mutelist FILE``: accepted findings, each muted for a stated reason, optionally until a date.

The file is YAML written by the person running the scan::

    mutelist:
      - rule: transcribe-job-pii-redaction         # required: a rule name, exactly
        resource: "arn:aws:transcribe:*:*:transcription-job/synthetic-*"   # required: a glob
        account: "123456789012"                    # optional: exactly this account
        region: us-east-1                          # optional: exactly this Region
        tags: {Environment: test}                  # optional: the resource has each of these tags
        reason: Synthetic test audio, no customer data (SEC-123).           # required
        expires: 2027-03-31                        # optional: last day (UTC) the entry applies

An entry mutes a result only when every field it gives matches; it mutes NON_COMPLIANT results
only (a "Could not evaluate" ERROR was never judged, so it cannot be accepted; COMPLIANT and
NOT_APPLICABLE need no muting). What each field matches:

- ``rule``: the result's rule name, compared exactly (an unknown name is an error);
- ``resource``: a glob (``fnmatch``: ``*``, ``?``, ``[seq]``, case-sensitive) that the result's
  resource id must match. The glob is always the entry's, matched against the id the account
  reported: an id that is itself ``*`` matches only a glob that matches the text ``*``;
- ``account``, ``region``: compared exactly; omitted, any account or Region the scan covers;
- ``tags``: tag key -> value, each compared exactly with the tags the scan read for that resource.
  Results do not carry tags: the scan knows the tags of the Transcribe jobs and categories whose
  Get response it read and of the customizations whose tags a rule listed (transcribe-resource-tagged
  lists all of them), as each result is written (results stream out as they are made). A resource
  whose tags the scan had not read by then (buckets, keys, the account, a customization when that
  rule did not run) never matches an entry that names tags. Only the tag keys the entries name
  are kept (TagsKept).

An expired entry is ignored with a warning on stderr. Any invalid entry (unknown or missing field,
wrong type, empty reason, bad date) rejects the whole file, naming the entry's line: exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Mapping

from transcribe_guard.scan import UsageError

FIELDS = ("rule", "resource", "account", "region", "tags", "reason", "expires")
REQUIRED = ("rule", "resource", "reason")
_ACCOUNT = re.compile(r"^\d{12}$")
MAX_BYTES = 1_000_000


def _region_patterns() -> list[re.Pattern[str]]:
    """What a Region name looks like in each partition: botocore's endpoints.json ``regionRegex``
    (aws, aws-cn, aws-us-gov, the ISO partitions, aws-eusc), so a new partition's names are known
    when botocore knows them."""
    import botocore.loaders

    partitions = botocore.loaders.create_loader().load_data("endpoints")["partitions"]
    return [re.compile(p["regionRegex"]) for p in partitions]


@dataclass(frozen=True)
class Entry:
    line: int  # 1-based line of the entry in the file
    rule: str
    resource: str
    reason: str
    account: str | None = None
    region: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    expires: date | None = None

    def matches(self, result: Mapping[str, Any], known_tags: Mapping[str, Mapping[str, str]]) -> bool:
        if result["rule"] != self.rule or not fnmatchcase(str(result["resource_id"]), self.resource):
            return False
        if self.account is not None and result.get("account") != self.account:
            return False
        if self.region is not None and result.get("region") != self.region:
            return False
        if self.tags:
            tags = known_tags.get(str(result["resource_id"]))
            if tags is None:  # the scan does not know this resource's tags: not named by this entry
                return False
            return all(key in tags and tags[key] == value for key, value in self.tags.items())
        return True


@dataclass(frozen=True)
class Mutelist:
    path: str
    entries: tuple[Entry, ...]

    def active(self, today: date) -> tuple[list[Entry], list[str]]:
        """The entries in force on ``today`` (UTC), and one warning per expired entry."""
        active = [e for e in self.entries if e.expires is None or e.expires >= today]
        warnings = [f"--mutelist {self.path}: line {e.line}: the entry for {e.rule} expired on "
                    f"{e.expires.isoformat()}; ignored." for e in self.entries if e.expires is not None and e.expires < today]
        return active, warnings


class TagsKept(dict):  # type: ignore[type-arg]  # ARN -> tags, as the scan fills ``known_tags``
    """The tags a scan reads, keeping per resource only the tag keys ``entries`` name: what their
    ``tags`` conditions compare, so that a scan of millions of jobs keeps a few keys of each."""

    def __init__(self, entries: list[Entry]):
        super().__init__()
        self.keys_named = frozenset(key for entry in entries for key in entry.tags)

    def __setitem__(self, arn: str, tags: Mapping[str, str]) -> None:
        super().__setitem__(arn, {key: value for key, value in tags.items() if key in self.keys_named})


def reason_for(result: Mapping[str, Any], entries: list[Entry], known_tags: Mapping[str, Mapping[str, str]]) -> str | None:
    """The reason of the first entry (in file order) that mutes ``result``, or None."""
    for entry in entries:
        if entry.matches(result, known_tags):
            return entry.reason
    return None


def load(path: str) -> Mutelist:
    """Read and validate a mutelist file; UsageError (exit 2) naming the file and line otherwise."""
    import yaml

    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"--mutelist {path}: cannot read the file ({error.strerror}).") from None
    if len(raw) > MAX_BYTES:
        raise UsageError(f"--mutelist {path}: the file is over {MAX_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise UsageError(f"--mutelist {path}: not UTF-8 text.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise UsageError(f"--mutelist {path}: {where}not valid YAML ({getattr(error, 'problem', None) or error}).") from None
    if root is None:
        return Mutelist(path, ())
    entries_node = _top(path, root)
    return Mutelist(path, tuple(_entry(path, node) for node in entries_node.value))


def _top(path: str, root: Any) -> Any:
    import yaml

    if not isinstance(root, yaml.MappingNode):
        raise UsageError(f"--mutelist {path}: line {root.start_mark.line + 1}: expected a mapping with one key, "
                         "'mutelist', holding a list of entries.")
    keys = [_scalar(path, key) for key, _ in root.value]
    if keys != ["mutelist"]:
        raise UsageError(f"--mutelist {path}: line {root.start_mark.line + 1}: expected exactly one top-level key, "
                         f"'mutelist'; found {', '.join(map(repr, keys)) or 'none'}.")
    node = root.value[0][1]
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [])
    if not isinstance(node, yaml.SequenceNode):
        raise UsageError(f"--mutelist {path}: line {node.start_mark.line + 1}: 'mutelist' must be a list of entries.")
    return node


def _scalar(path: str, node: Any) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise UsageError(f"--mutelist {path}: line {node.start_mark.line + 1}: expected a single value here.")
    return _construct(path, node)


def _construct(path: str, node: Any) -> Any:
    import yaml

    try:
        return yaml.SafeLoader("").construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError) as error:  # 2027-02-30 is a timestamp to YAML, and no date
        raise UsageError(f"--mutelist {path}: line {node.start_mark.line + 1}: {node.value!r} cannot be read "
                         f"({error}).") from None


def _entry(path: str, node: Any) -> Entry:
    import yaml

    from rules.catalog.registry import RULES

    line = node.start_mark.line + 1

    def bad(message: str) -> UsageError:
        return UsageError(f"--mutelist {path}: line {line}: {message}")

    if not isinstance(node, yaml.MappingNode):
        raise bad("an entry must be a mapping of rule, resource, reason and optional account, region, tags, expires.")
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _scalar(path, key_node)
        if key not in FIELDS:
            raise bad(f"unknown field {key!r}; an entry has {', '.join(FIELDS)}.")
        if key in values:
            raise bad(f"field {key!r} is given twice.")
        values[key] = value_node
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        raise bad(f"missing required field{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")

    def text(name: str) -> str:
        value = _scalar(path, values[name])
        if not isinstance(value, str) or not value.strip():
            raise bad(f"{name} must be a non-empty string.")
        return value

    rule = text("rule")
    if rule not in RULES:
        raise bad(f"unknown rule {rule!r}; known rules: {', '.join(RULES)}.")
    account = None
    if "account" in values:
        raw_account = _scalar(path, values["account"])
        account = str(raw_account) if isinstance(raw_account, (str, int)) and not isinstance(raw_account, bool) else ""
        # A 12-digit number: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html
        if not _ACCOUNT.match(account):
            raise bad("account must be a 12-digit AWS account id (quote it: \"012345678901\").")
    region = text("region") if "region" in values else None
    if region is not None and not any(pattern.match(region) for pattern in _region_patterns()):
        raise bad(f"region {region!r} is not a Region name such as us-east-1.")
    return Entry(line=line, rule=rule, resource=text("resource"), reason=text("reason"), account=account,
                 region=region, tags=_tags(path, values.get("tags"), bad), expires=_expires(path, values.get("expires"), bad))


def _tags(path: str, node: Any, bad: Any) -> dict[str, str]:
    import yaml

    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise bad("tags must be a non-empty mapping of tag keys to values.")
    tags: dict[str, str] = {}
    for key_node, value_node in node.value:
        if not (isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.ScalarNode)):
            raise bad("tags must map each tag key to one value.")
        key, value = _construct(path, key_node), _construct(path, value_node)
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise bad("tag keys and values must be strings (quote values such as \"true\" or \"123\").")
        if key in tags:
            raise bad(f"tag {key!r} is given twice.")
        tags[key] = value
    return tags


def _expires(path: str, node: Any, bad: Any) -> date | None:
    if node is None:
        return None
    value = _scalar(path, node)
    if isinstance(value, datetime):
        raise bad("expires must be a date (YYYY-MM-DD), not a time.")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise bad(f"expires must be a date (YYYY-MM-DD), not {value!r}.")
