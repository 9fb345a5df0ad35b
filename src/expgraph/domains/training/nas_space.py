"""A NAS campaign's search space, its sampler and the canonical hash of an
architecture. Pure functions: no database, no GraphQL.

A search space is stored in ``nas_campaigns.search_space_config`` as::

    {"decisions": [{"name": "optimizer", "choices": ["adam", "sgd"]}, ...],
     "layers": {"min_count": 2, "max_count": 6,
                "decisions": [{"name": "op", "choices": ["conv3x3", "conv5x5"]}, ...]}}

``decisions`` are made once per architecture; ``layers`` (optional) is a stack
of ``min_count`` to ``max_count`` layers, each making its own ``decisions``. A
sampled architecture is a JSON object: each top-level decision's name -> its
choice, plus ``"layers"``: a list of objects (one per layer, its decisions'
names -> choices) when the space has layers.

Sampling is deterministic: the random generator of a draw is seeded from
(campaign seed, trial number, attempt), so a campaign replays identically.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from expgraph.errors import BadRequest

MAX_DECISIONS = 50
MAX_CHOICES = 100
MAX_LAYERS = 50
MAX_NAME = 100
LAYERS_KEY = "layers"
DRAW_ATTEMPTS = 50
"""How many draws a claim makes before it gives up on finding an unused architecture
by chance (then, in a small space, it picks among the unused ones directly)."""
ENUMERATE_LIMIT = 20_000
"""A space of at most this many architectures is enumerated when draws keep
hitting used ones, so its last unused architectures are still found."""
TOURNAMENT_SIZE = 5
POPULATION_SIZE = 20
"""Regularized evolution: the population is the latest POPULATION_SIZE completed
trials; a tournament samples TOURNAMENT_SIZE of them and mutates the best."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal architectures have equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def architecture_hash(architecture: Any) -> str:
    """SHA-256 (hex) of the architecture's canonical JSON."""
    return hashlib.sha256(canonical_json(architecture).encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    name: str
    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Layers:
    min_count: int
    max_count: int
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class SearchSpace:
    decisions: tuple[Decision, ...]
    layers: Layers | None

    # -- storage -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        def decisions(items: Sequence[Decision]) -> list[dict[str, Any]]:
            return [{"name": d.name, "choices": list(d.choices)} for d in items]

        stored: dict[str, Any] = {"decisions": decisions(self.decisions)}
        if self.layers is not None:
            stored["layers"] = {
                "min_count": self.layers.min_count,
                "max_count": self.layers.max_count,
                "decisions": decisions(self.layers.decisions),
            }
        return stored

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> SearchSpace:
        def decisions(items: list[dict[str, Any]]) -> tuple[Decision, ...]:
            return tuple(Decision(d["name"], tuple(d["choices"])) for d in items)

        layers = stored.get("layers")
        return cls(
            decisions(stored.get("decisions", [])),
            None
            if layers is None
            else Layers(layers["min_count"], layers["max_count"], decisions(layers["decisions"])),
        )

    # -- size ----------------------------------------------------------------

    def size(self) -> int:
        """How many distinct architectures the space holds."""
        top = math.prod(len(d.choices) for d in self.decisions)
        if self.layers is None:
            return top
        per_layer = math.prod(len(d.choices) for d in self.layers.decisions)
        stacks = sum(per_layer**n for n in range(self.layers.min_count, self.layers.max_count + 1))
        return top * stacks

    # -- sampling ------------------------------------------------------------

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """One architecture drawn uniformly per decision (and layer count)."""
        architecture = {d.name: rng.choice(d.choices) for d in self.decisions}
        if self.layers is not None:
            count = rng.randint(self.layers.min_count, self.layers.max_count)
            architecture[LAYERS_KEY] = [self._layer(rng) for _ in range(count)]
        return architecture

    def _layer(self, rng: random.Random) -> dict[str, Any]:
        assert self.layers is not None
        return {d.name: rng.choice(d.choices) for d in self.layers.decisions}

    def mutate(self, parent: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """The parent with one thing changed: a top-level decision, one layer's
        decision, or a layer added or removed (within the count range)."""
        child = {k: (list(v) if k == LAYERS_KEY else v) for k, v in parent.items()}
        moves: list[tuple[str, Any]] = [("top", d) for d in self.decisions if len(d.choices) > 1]
        layers = self.layers
        stack: list[dict[str, Any]] = list(child.get(LAYERS_KEY, [])) if layers else []
        if layers is not None:
            movable = [d for d in layers.decisions if len(d.choices) > 1]
            moves += [("layer", (i, d)) for i in range(len(stack)) for d in movable]
            if len(stack) < layers.max_count:
                moves.append(("add", None))
            if len(stack) > layers.min_count:
                moves.append(("remove", None))
        if not moves:
            return child
        kind, what = rng.choice(moves)
        if kind == "top":
            child[what.name] = _other(what, child.get(what.name), rng)
        elif kind == "layer":
            index, decision = what
            layer = dict(stack[index])
            layer[decision.name] = _other(decision, layer.get(decision.name), rng)
            stack[index] = layer
        elif kind == "add":
            stack.insert(rng.randint(0, len(stack)), self._layer(rng))
        else:
            stack.pop(rng.randrange(len(stack)))
        if layers is not None:
            child[LAYERS_KEY] = stack
        return child

    def every(self) -> Iterator[dict[str, Any]]:
        """Every architecture of the space, in a fixed order (small spaces only)."""
        tops = itertools.product(*(d.choices for d in self.decisions))
        for top in tops:
            base = {d.name: c for d, c in zip(self.decisions, top, strict=True)}
            if self.layers is None:
                yield base
                continue
            names = [d.name for d in self.layers.decisions]
            one = [
                dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(d.choices for d in self.layers.decisions))
            ]
            for count in range(self.layers.min_count, self.layers.max_count + 1):
                for stack in itertools.product(one, repeat=count):
                    yield {**base, LAYERS_KEY: [dict(layer) for layer in stack]}


def _other(decision: Decision, current: Any, rng: random.Random) -> Any:
    """A choice of ``decision`` other than ``current`` (compared as canonical JSON)."""
    now = canonical_json(current)
    others = [c for c in decision.choices if canonical_json(c) != now]
    return rng.choice(others) if others else current


def rng_for(seed: int, trial_number: int, attempt: int) -> random.Random:
    """The generator of one draw: the same (seed, trial number, attempt), the same draw."""
    return random.Random(f"nas:{seed}:{trial_number}:{attempt}")


def draw(
    space: SearchSpace,
    seed: int,
    trial_number: int,
    used: set[str],
    parents: Sequence[tuple[dict[str, Any], float]] = (),
) -> tuple[dict[str, Any], str] | None:
    """An architecture not in ``used`` (hashes) and its hash, or None when none
    was found. With ``parents`` (the population of regularized evolution:
    architecture and accuracy, oldest first), each draw mutates the best of a
    tournament sampled from them; else it samples the space. A draw whose hash is
    used is re-drawn (``DRAW_ATTEMPTS`` times); then a space of at most
    ``ENUMERATE_LIMIT`` architectures picks among its unused ones directly."""
    for attempt in range(DRAW_ATTEMPTS):
        rng = rng_for(seed, trial_number, attempt)
        if parents:
            contenders = rng.sample(list(parents), min(TOURNAMENT_SIZE, len(parents)))
            best = max(contenders, key=lambda item: item[1])[0]
            architecture = space.mutate(best, rng)
        else:
            architecture = space.sample(rng)
        digest = architecture_hash(architecture)
        if digest not in used:
            return architecture, digest
    if space.size() > ENUMERATE_LIMIT:
        return None
    unused = [a for a in space.every() if architecture_hash(a) not in used]
    if not unused:
        return None
    chosen = rng_for(seed, trial_number, DRAW_ATTEMPTS).choice(unused)
    return chosen, architecture_hash(chosen)


# -- validation ----------------------------------------------------------------


def _decisions(items: Sequence[Any], field: str, reserved: set[str]) -> tuple[Decision, ...]:
    if len(items) > MAX_DECISIONS:
        raise BadRequest(f"{field} has more than {MAX_DECISIONS} decisions", field=field)
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        name = item.name.strip()
        if not 1 <= len(name) <= MAX_NAME or "\x00" in name:
            raise BadRequest(f"{where}.name must be 1 to {MAX_NAME} characters", field=field)
        if name in seen:
            raise BadRequest(f"{where}.name {name!r} is given twice", field=field)
        if name in reserved:
            raise BadRequest(f"{where}.name {name!r} is reserved for the layer stack", field=field)
        seen.add(name)
        choices = list(item.choices)
        if not 1 <= len(choices) <= MAX_CHOICES:
            raise BadRequest(f"{where}.choices must hold 1 to {MAX_CHOICES} values", field=field)
        texts = [orjson.dumps(c, option=orjson.OPT_SORT_KEYS) for c in choices]
        if len(set(texts)) != len(texts):
            raise BadRequest(f"{where}.choices holds the same value twice", field=field)
        if any(c is None for c in choices):
            raise BadRequest(f"{where}.choices must not hold null", field=field)
        out.append(Decision(name, tuple(choices)))
    return tuple(out)


def validated(decisions: Sequence[Any], layers: Any | None) -> SearchSpace:
    """The search space an input describes (``decisions``: items with ``name``
    and ``choices``; ``layers``: ``min_count``, ``max_count``, ``decisions``),
    or BAD_REQUEST naming the field."""
    field = "searchSpace"
    reserved = {LAYERS_KEY} if layers is not None else set()
    top = _decisions(decisions, f"{field}.decisions", reserved)
    stack = None
    if layers is not None:
        where = f"{field}.layers"
        if not 0 <= layers.min_count <= layers.max_count <= MAX_LAYERS:
            raise BadRequest(
                f"{where} needs 0 <= minCount <= maxCount <= {MAX_LAYERS}", field=where
            )
        inner = _decisions(layers.decisions, f"{where}.decisions", set())
        if not inner:
            raise BadRequest(f"{where}.decisions must not be empty", field=where)
        stack = Layers(layers.min_count, layers.max_count, inner)
    if not top and stack is None:
        raise BadRequest(f"{field} needs decisions, layers or both", field=field)
    return SearchSpace(top, stack)
