"""The small immutable values written without dataclasses (``spanscope.values.Frozen``) keep
what their dataclasses gave: equality and hashing by field, no assignment or deletion, pickling,
a readable repr and pattern matching."""

from __future__ import annotations

import pickle

import pytest

from spanscope.errors import Diagnostic, Location
from spanscope.formats import FORMATS, Format

VALUES = [
    Location("a.json", "line 3"),
    Diagnostic(Location("a.json"), "a tag given twice"),
    FORMATS["jaeger-json"],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_equal_hashed_and_pickled_by_their_fields(value: object) -> None:
    copy = pickle.loads(pickle.dumps(value))
    assert copy == value and hash(copy) == hash(value) and copy is not value
    assert value != object() and len({value, copy}) == 1


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_no_field_is_set_or_deleted(value: object) -> None:
    field = type(value).__match_args__[0]
    with pytest.raises(AttributeError, match="immutable"):
        setattr(value, field, "x")
    with pytest.raises(AttributeError, match="immutable"):
        delattr(value, field)


def test_repr_and_match_as_the_dataclasses_did() -> None:
    assert repr(Location("a.json", "line 3")) == "Location(source='a.json', place='line 3')"
    assert Location("a.json") != Location("a.json", "line 1")
    match Diagnostic(Location("a.json", "byte 9"), "odd"):
        case Diagnostic(Location(source, place), message):
            assert (source, place, message) == ("a.json", "byte 9", "odd")
    fmt = FORMATS["otlp-json"]
    assert isinstance(fmt, Format) and repr(fmt).startswith("Format(name='otlp-json', module=")
