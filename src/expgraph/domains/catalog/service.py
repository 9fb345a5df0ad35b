"""Catalog writes: tags and their links to experiments, datasets, versions, examples.

A tag's ``usage_count`` is kept equal to its number of links to experiments
that are not deleted: each link or unlink of a live experiment moves it by one in
the same transaction, and only when the link really appeared or disappeared
(``ON CONFLICT DO NOTHING`` / ``DELETE ... RETURNING``), so concurrent and
repeated calls cannot drift it; soft-deleting an experiment takes one off each of
its tags and restoring it puts it back (one statement, ``count_experiment_tags``).
Callers lock the experiment's row first, so a link and a delete cannot cross.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import MutableMapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import insert_ignoring_conflicts
from expgraph.domains.catalog import models
from expgraph.domains.experiments import hooks
from expgraph.domains.experiments.models import Experiment
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import graphql_name, json_object, optional_text, text
from expgraph.graphql.relay import graphql_type_name, model_pk

TAG_NAME_MAX, DATASET_NAME_MAX = 50, 255
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_EXAMPLES_PER_CALL = 5000


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise BadRequest("the tag name needs at least one letter or digit", field="name")
    return slug[:60]


def _color(value: str | None) -> str | None:
    if value is not None and not COLOR.fullmatch(value):
        raise BadRequest("color must look like #1a2b3c", field="color")
    return value.lower() if value else None


async def get_tag(session: AsyncSession, pk: int) -> models.Tag:
    tag = await session.get(models.Tag, pk, populate_existing=True)
    if tag is None:
        raise NotFound("no tag with that id")
    return tag


async def _check_tag_free(session: AsyncSession, name: str, slug: str, exclude: int | None) -> None:
    stmt = select(models.Tag.id).where((models.Tag.name == name) | (models.Tag.slug == slug))
    if exclude is not None:
        stmt = stmt.where(models.Tag.id != exclude)
    if (await session.scalars(stmt.limit(1))).first() is not None:
        raise Conflict(f"a tag named {name!r} (or with slug {slug!r}) exists", field="name")


async def create_tag(
    session: AsyncSession, name: str, color: str | None, created_by: int | None
) -> models.Tag:
    name = text(name, "name", max_length=TAG_NAME_MAX)
    slug = slugify(name)
    await _check_tag_free(session, name, slug, None)
    tag = models.Tag(name=name, slug=slug, color=_color(color), created_by=created_by)
    session.add(tag)
    await session.flush()
    return tag


async def update_tag(session: AsyncSession, pk: int, values: dict[str, Any]) -> models.Tag:
    tag = await get_tag(session, pk)
    if "name" in values:
        if values["name"] is None:
            raise BadRequest("name cannot be null", field="name")
        tag.name = text(values["name"], "name", max_length=TAG_NAME_MAX)
        tag.slug = slugify(tag.name)
        await _check_tag_free(session, tag.name, tag.slug, tag.id)
    if "color" in values:
        tag.color = _color(values["color"])
    await session.flush()
    return tag


async def delete_tag(session: AsyncSession, pk: int) -> models.Tag:
    tag = await get_tag(session, pk)
    await session.delete(tag)
    await session.flush()
    return tag


async def link_tag(
    session: AsyncSession,
    dialect: str,
    experiment_id: int,
    tag_id: int,
    added_by: int | None,
    *,
    counted: bool = True,
) -> bool:
    """Link; True when the link is new (and, when ``counted``, i.e. the experiment
    is not deleted, the tag's count went up)."""
    await get_tag(session, tag_id)
    stmt = insert_ignoring_conflicts(
        dialect,
        models.ExperimentTag.__table__,  # type: ignore[arg-type]
        {"experiment_id": experiment_id, "tag_id": tag_id, "added_by": added_by},
        ("experiment_id", "tag_id"),
    ).returning(models.ExperimentTag.id)
    inserted = (await session.execute(stmt)).first() is not None
    if inserted and counted:
        await _bump(session, tag_id, +1)
    return inserted


async def unlink_tag(
    session: AsyncSession, experiment_id: int, tag_id: int, *, counted: bool = True
) -> bool:
    """Unlink; True when a link was removed (and, when ``counted``, the tag's count
    went down)."""
    await get_tag(session, tag_id)
    link = models.ExperimentTag
    stmt = (
        delete(link)
        .where(link.experiment_id == experiment_id, link.tag_id == tag_id)
        .returning(link.id)
    )
    removed = (await session.execute(stmt)).first() is not None
    if removed and counted:
        await _bump(session, tag_id, -1)
    return removed


async def count_experiment_tags(session: AsyncSession, experiment_id: int, step: int) -> None:
    """Move the count of every tag of an experiment by ``step`` (-1 when it is
    soft-deleted, +1 when it is restored), in one statement."""
    link = models.ExperimentTag
    await session.execute(
        update(models.Tag)
        .where(models.Tag.id.in_(select(link.tag_id).where(link.experiment_id == experiment_id)))
        .values(usage_count=models.Tag.usage_count + step)
        .execution_options(synchronize_session=False)
    )


async def _bump(session: AsyncSession, tag_id: int, step: int) -> None:
    await session.execute(
        update(models.Tag)
        .where(models.Tag.id == tag_id)
        .values(usage_count=models.Tag.usage_count + step)
        .execution_options(synchronize_session=False)
    )


async def create_dataset(
    session: AsyncSession, values: dict[str, Any], created_by: int | None
) -> models.Dataset:
    name = text(values.pop("name"), "name", max_length=DATASET_NAME_MAX)
    if (
        await session.scalars(select(models.Dataset.id).where(models.Dataset.name == name))
    ).first():
        raise Conflict(f"a dataset named {name!r} exists", field="name")
    values["description"] = optional_text(
        values.get("description"), "description", max_length=10_000
    )
    values["metadata_"] = json_object(values.get("metadata_"), "metadata")
    dataset = models.Dataset(name=name, created_by=created_by, **values)
    session.add(dataset)
    await session.flush()
    return dataset


async def get_dataset(session: AsyncSession, pk: int) -> models.Dataset:
    dataset = await session.get(models.Dataset, pk)
    if dataset is None:
        raise NotFound("no dataset with that id", field="datasetId")
    return dataset


async def create_version(
    session: AsyncSession, dataset_id: int, description: str | None, metadata: Any
) -> models.DatasetVersion:
    await get_dataset(session, dataset_id)
    version = models.DatasetVersion(
        dataset_id=dataset_id,
        description=optional_text(description, "description", max_length=10_000),
        metadata_=json_object(metadata, "metadata"),
    )
    session.add(version)
    await session.flush()
    return version


async def add_examples(
    session: AsyncSession, dataset_id: int, version_id: int, examples: Sequence[dict[str, Any]]
) -> list[models.DatasetExample]:
    """Add a batch of examples to a version, all or none."""
    if not examples:
        raise BadRequest("examples must not be empty", field="examples")
    if len(examples) > MAX_EXAMPLES_PER_CALL:
        raise BadRequest(f"at most {MAX_EXAMPLES_PER_CALL} examples per call", field="examples")
    await get_dataset(session, dataset_id)
    version = await session.get(models.DatasetVersion, version_id)
    if version is None:
        raise NotFound("no dataset version with that id", field="datasetVersionId")
    if version.dataset_id != dataset_id:
        raise BadRequest("the version belongs to another dataset", field="datasetVersionId")
    rows = [
        models.DatasetExample(
            dataset_id=dataset_id,
            dataset_version_id=version_id,
            input=json_object(e.get("input"), f"examples[{i}].input"),
            output=json_object(e.get("output"), f"examples[{i}].output"),
            metadata_=json_object(e.get("metadata"), f"examples[{i}].metadata"),
        )
        for i, e in enumerate(examples)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


@hooks.after_create
async def tag_new_experiment(
    session: AsyncSession, dialect: str, experiment: Experiment, input: Any, user_id: int | None
) -> None:
    """Put the tags the create input names (``tagIds``) on the new experiment."""
    tag_ids = [model_pk(t, models.Tag) for t in getattr(input, "tag_ids", None) or []]
    for tag_id in dict.fromkeys(tag_ids):
        await link_tag(session, dialect, experiment.id, tag_id, user_id)


@hooks.after_delete_or_restore
async def recount_tags(session: AsyncSession, experiment_id: int, deleted: bool) -> None:
    """A tag's usage count counts live experiments only."""
    await count_experiment_tags(session, experiment_id, -1 if deleted else +1)


DATASET_IDS = {"dataset_id": models.Dataset, "dataset_version_id": models.DatasetVersion}


async def check_dataset_references(
    session: AsyncSession, values: MutableMapping[str, Any], stored: Experiment | None
) -> None:
    """For the experiment kinds that run on a dataset: turn the global ids of
    ``dataset_id`` and ``dataset_version_id`` into keys, check both exist, and
    that the version is one of the dataset's (the stored dataset on update)."""
    for field, model in DATASET_IDS.items():
        if values.get(field) is not None:
            values[field] = model_pk(values[field], model)
            if await session.get(model, values[field]) is None:
                raise NotFound(
                    f"no {graphql_type_name(model)} with that id", field=graphql_name(field)
                )
    version_id = values.get("dataset_version_id")
    dataset_id = values.get("dataset_id", getattr(stored, "dataset_id", None))
    if version_id is not None and dataset_id is not None:
        version = await session.get(models.DatasetVersion, version_id)
        if version is not None and version.dataset_id != dataset_id:
            raise BadRequest(
                "the dataset version belongs to another dataset", field="datasetVersionId"
            )
