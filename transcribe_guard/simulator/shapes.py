"""Tie simulated responses to botocore's service models.

``project`` keeps exactly the members an output shape defines, so a backend record can hold more
than one operation returns (a job's request settings, say) and each response still has the
model's fields and no others. ``json_encoder`` does that projection and moto's JSON response
serialization in one pass, compiled once per shape (moto's serializer walks every member of the
model per response, through an attribute picker). ``validate`` checks a value against a shape:
member names, types, enums, lengths, ranges and required members. Tests run it on every
simulated response.
"""

from __future__ import annotations

import base64
import calendar
import datetime as _dt
import enum
import re
from functools import lru_cache
from typing import Any, Callable

import botocore.session
from botocore.model import ServiceModel, Shape


@lru_cache(maxsize=None)
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str) -> Shape | None:
    return service_model(service).operation_model(operation).output_shape


def project(shape: Shape | None, value: Any) -> Any:
    """Drop every member ``shape`` does not define, recursively; None members are left out."""
    if shape is None:
        return {}
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: project(members[k], v) for k, v in value.items() if k in members and v is not None}
    if shape.type_name == "list" and isinstance(value, list):
        return [project(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: project(shape.value, v) for k, v in value.items()}
    return value


Encoder = Callable[[Any], Any]
# By model (its shape resolver, kept alive here so its id stays its own), shape name and the
# reference's serialization traits. Not by id(shape): botocore builds a new Shape object each
# time a recursive shape is reached again.
_ENCODERS: dict[tuple[int, str, str], tuple[Any, Encoder]] = {}


def json_encoder(shape: Shape) -> Encoder:
    """A function giving what moto's JSON serializer writes for ``project(shape, value)``: members
    the shape does not define and None members left out, timestamps as epoch seconds (or the
    shape's timestampFormat), blobs base64, integers and floats coerced, strings and enums as text."""
    resolver = getattr(shape, "_shape_resolver", None)
    key = (id(resolver), shape.name, repr(sorted(shape.serialization.items())))
    found = _ENCODERS.get(key)
    if found is not None:
        return found[1]
    kind = shape.type_name
    encode: Encoder
    if kind == "structure":
        members: dict[str, Encoder] = {}

        def encode(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            return {k: members[k](v) for k, v in value.items() if v is not None and k in members}
        _ENCODERS[key] = (resolver, encode)  # before the members: shapes may be recursive
        if not getattr(shape, "is_document_type", False):  # a document has no modelled members to keep
            members.update({name: json_encoder(member) for name, member in shape.members.items()})
        return encode
    if kind == "list":
        item = json_encoder(shape.member)

        def encode(value: Any) -> Any:
            return [item(v) for v in value] if isinstance(value, list) else value
    elif kind == "map":
        entry = json_encoder(shape.value)
        drops_none = shape.value.type_name == "structure"  # moto writes no entry for a None structure

        def encode(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            return {k: entry(v) for k, v in value.items() if not (drops_none and v is None)}
    elif kind == "string":
        encode = _string
    elif kind in ("integer", "long"):
        encode = int
    elif kind in ("float", "double"):
        encode = float
    elif kind == "timestamp":
        encode = _timestamp_encoder(shape.serialization.get("timestampFormat", "unixtimestamp"))
    elif kind == "blob":
        encode = _blob
    else:
        encode = _same
    _ENCODERS[key] = (resolver, encode)
    return encode


def _same(value: Any) -> Any:
    return value


def _string(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value) if value not in (None, {}, []) else value


def _blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


def _timestamp_encoder(timestamp_format: str) -> Encoder:
    if timestamp_format.lower() != "unixtimestamp":
        from moto.core.serialize import TimestampSerializer
        return lambda value: TimestampSerializer(timestamp_format)._convert_timestamp_to_str(value, timestamp_format)

    def encode(value: Any) -> Any:
        if not isinstance(value, _dt.datetime):
            from botocore.utils import parse_to_aware_datetime
            value = parse_to_aware_datetime(value)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        seconds = calendar.timegm(value.timetuple())  # as moto: the value's own wall clock
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    return encode


def validate(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Every way ``value`` departs from ``shape``; an empty list means it conforms."""
    where = path or "<root>"
    if shape is None:
        return [] if value in (None, {}) else [f"{where}: operation has no output but got {type(value).__name__}"]
    kind = shape.type_name
    problems: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected structure, got {type(value).__name__}"]
        for key in value:
            if key not in shape.members:
                problems.append(f"{where}: unknown member {key}")
        for required in shape.required_members:
            if required not in value:
                problems.append(f"{where}: missing required member {required}")
        for key, member_value in value.items():
            if key in shape.members:
                problems.extend(validate(shape.members[key], member_value, f"{path}.{key}" if path else key))
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected list, got {type(value).__name__}"]
        problems.extend(_check_length(shape, len(value), where))
        for index, item in enumerate(value):
            problems.extend(validate(shape.member, item, f"{where}[{index}]"))
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected map, got {type(value).__name__}"]
        for key, item in value.items():
            problems.extend(validate(shape.key, key, f"{where}<key>"))
            problems.extend(validate(shape.value, item, f"{where}[{key}]"))
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected string, got {type(value).__name__}"]
        enum = shape.enum
        if enum and value not in enum:
            problems.append(f"{where}: {value!r} is not one of the model's enum values")
        problems.extend(_check_length(shape, len(value), where))
        pattern = shape.metadata.get("pattern")
        if pattern and not re.search(pattern, value):
            problems.append(f"{where}: does not match the model pattern {pattern}")
        return problems
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected integer, got {type(value).__name__}"]
        return _check_range(shape, value, where)
    if kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{where}: expected number, got {type(value).__name__}"]
        return _check_range(shape, value, where)
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected boolean, got {type(value).__name__}"]
    if kind == "timestamp":
        return [] if isinstance(value, _dt.datetime) else [f"{where}: expected timestamp, got {type(value).__name__}"]
    if kind == "blob":
        return [] if isinstance(value, (bytes, bytearray, str)) else [f"{where}: expected blob"]
    return [f"{where}: unhandled shape type {kind}"]


def _check_length(shape: Shape, length: int, where: str) -> list[str]:
    problems = []
    if "min" in shape.metadata and length < shape.metadata["min"]:
        problems.append(f"{where}: length {length} below model minimum {shape.metadata['min']}")
    if "max" in shape.metadata and length > shape.metadata["max"]:
        problems.append(f"{where}: length {length} above model maximum {shape.metadata['max']}")
    return problems


def _check_range(shape: Shape, number: float, where: str) -> list[str]:
    problems = []
    if "min" in shape.metadata and number < shape.metadata["min"]:
        problems.append(f"{where}: {number} below model minimum {shape.metadata['min']}")
    if "max" in shape.metadata and number > shape.metadata["max"]:
        problems.append(f"{where}: {number} above model maximum {shape.metadata['max']}")
    return problems
