"""JSON columns read back what was written: orjson decodes them, and what orjson
refuses (NaN, which the standard library writes) still reads."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from expgraph.db.engine import dump_jsonb, load_json
from expgraph.db.values import ValueRefused
from expgraph.domains.experiments.models import ResearchExperiment

VALUE = {"nested": {"list": [1, 2.5, "three", None, True]}, "unicode": "naïve ✓", "big": 2**53}


async def _roundtrip(db, metadata):
    async with db.transaction() as session:
        session.add(ResearchExperiment(name="json", metadata_=metadata, config={}))
    async with db.read() as session:
        return (await session.scalars(select(ResearchExperiment.metadata_))).one()


async def test_json_columns_round_trip(db):
    assert await _roundtrip(db, VALUE) == VALUE


@pytest.mark.parametrize("dialect", ["sqlite"])  # PostgreSQL's JSONB refuses NaN on write
async def test_a_nan_written_by_the_standard_library_still_reads(db):
    # expgraph no longer writes NaN (db.values refuses it); rows written before still read.
    with pytest.raises(ValueRefused):
        await _roundtrip(db, {"score": float("nan")})
    await _roundtrip(db, {"score": 0})
    async with db.transaction() as session:
        await session.execute(text("""UPDATE experiments SET metadata = '{"score": NaN}'"""))
    async with db.read() as session:
        read = (await session.scalars(select(ResearchExperiment.metadata_))).one()
    assert math.isnan(read["score"])


def test_load_json_takes_text_and_bytes():
    assert load_json('{"a": [1]}') == load_json(b'{"a": [1]}') == {"a": [1]}
    assert math.isinf(load_json('{"a": Infinity}')["a"])


def test_jsonb_parameters_read_as_the_standard_library_writes_them():
    # PostgreSQL's JSONB parameters go through orjson (dump_jsonb): the same value
    # as json.dumps wrote; what orjson would refuse or write otherwise falls back.
    for value in (VALUE, {"n": None, "f": 0.1, "i": -(2**63)}, [], None, {1: "int key"}):
        assert json.loads(dump_jsonb(value)) == json.loads(json.dumps(value))
    assert dump_jsonb({1: "x"}) == json.dumps({1: "x"})
    with pytest.raises(TypeError):
        dump_jsonb({"at": datetime.now(UTC)})  # not JSON: refused as json.dumps refuses it
