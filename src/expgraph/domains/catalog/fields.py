"""Catalog fields carried by other domains' types: every experiment's ``tags``
(added to the ``Experiment`` interface), the ``tagSlugs`` condition of
``ExperimentFilter``, and the dataset fields of the kinds that run on one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.sql.elements import ColumnElement

from expgraph.domains.catalog import models
from expgraph.domains.catalog.types import TAG_ORDERING, Dataset, DatasetVersion, Tag, TagOrder
from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import Experiment, filter_rule
from expgraph.graphql.connections import connection_field
from expgraph.graphql.extend import extends
from expgraph.graphql.loaders import Relation, RowsById, Through
from expgraph.graphql.prefetch import node_field

TAGS_OF_EXPERIMENT = Through(models.ExperimentTag, "experiment_id", "tag_id")


@extends(Experiment)
class ExperimentTags:
    tags = connection_field(
        Relation(models.Tag, through=TAGS_OF_EXPERIMENT),
        Tag,
        TAG_ORDERING,
        order=TagOrder,
        description="Its tags.",
    )


@filter_rule("tag_slugs")
def has_tags(slugs: list[str]) -> ColumnElement[bool]:
    """Has every one of the tags: one grouped statement for any number of slugs
    (the experiments whose links to those tags number as many as the distinct
    slugs asked; slugs are unique), not one correlated EXISTS per slug."""
    wanted = sorted(set(slugs))
    if not wanted:
        return true()
    link, tag = models.ExperimentTag, models.Tag
    tagged = (
        select(link.experiment_id)
        .join(tag, tag.id == link.tag_id)
        .where(tag.slug.in_(wanted))
        .group_by(link.experiment_id)
        .having(func.count(func.distinct(link.tag_id)) == len(wanted))
    )
    return experiments.Experiment.id.in_(tagged)


def dataset_field(description: str) -> Any:
    """An experiment kind's ``dataset`` (its ``dataset_id``)."""
    return node_field(RowsById(models.Dataset), "dataset_id", Dataset, description=description)


def dataset_version_field(description: str) -> Any:
    """An experiment kind's ``datasetVersion`` (its ``dataset_version_id``)."""
    return node_field(
        RowsById(models.DatasetVersion),
        "dataset_version_id",
        DatasetVersion,
        description=description,
    )
