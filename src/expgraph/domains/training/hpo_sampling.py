"""Optuna, driven from the stored trials: the samplers, the Hyperband pruner
and parameter importance, each over an in-memory study rebuilt per call.

- RANDOM_SEARCH: ``RandomSampler``; BAYESIAN and HYPERBAND: ``TPESampler``.
  The sampler of trial ``n`` is seeded with ``campaign seed + n``, so asking is
  reproducible from the campaign's seed and stored trials.
- GRID_SEARCH: ``GridSampler`` over ``hpo_space.grid_space`` (each parameter's
  grid values), seeded with the campaign's seed (modulo 2**32, as NumPy
  takes it), so the same seed visits the points in the same order: trial
  ``n`` below the grid's size gets point ``n`` of the sampler's seeded
  shuffle, a later trial a point no trial holds. The sampler recognises a
  trial's point by its system attributes ``grid_id`` and ``search_space``:
  a trial stores its ``grid_id`` when it is asked (``{"sampler": {"grid_id":
  n}}`` in ``hpo_trials.intermediate_values``) and the rebuild gives it back
  with the campaign's grid values as ``search_space`` (a campaign's search
  space never changes, so it is not copied into every trial). Unlike Optuna,
  a FAILED trial (reported failed or gone stale) is rebuilt WITHOUT its
  ``grid_id``, so its point counts as not visited and is handed out again
  (once every point has been handed out once): our rule that a failed
  trial's slot is offered again. The grid is done when every point has a
  trial that did not fail (``grid_done``, counted without asking).
- Pruning: HYPERBAND campaigns use Optuna's ``HyperbandPruner`` (resource =
  epochs, from the budget's minEpochs/maxEpochs, defaults 1 and 27,
  reduction factor 3); the other methods never prune. The pruner's per-trial
  bookkeeping (Optuna's rung system attributes) is stored with the trial's
  intermediate values and given back on every rebuild.
- Importance: Optuna's fANOVA (``FanovaImportanceEvaluator``, seeded with the
  campaign's seed) over the COMPLETED trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState, create_trial

from expgraph.domains.training.hpo_space import (
    distributions,
    grid_size,
    grid_space,
    objective_of_campaign,
)
from expgraph.domains.training.models import HpoCampaign, HpoMethod, HpoTrialState
from expgraph.domains.training.service import ObjectiveDirection

if TYPE_CHECKING:
    from expgraph.domains.training.hpo import StoredTrial

optuna.logging.set_verbosity(optuna.logging.WARNING)

REDUCTION_FACTOR = 3
STATES = {
    HpoTrialState.RUNNING: TrialState.RUNNING,
    HpoTrialState.COMPLETED: TrialState.COMPLETE,
    HpoTrialState.PRUNED: TrialState.PRUNED,
    HpoTrialState.FAILED: TrialState.FAIL,
}


def _sampler(campaign: HpoCampaign, number: int) -> optuna.samplers.BaseSampler:
    if campaign.method is HpoMethod.GRID_SEARCH:
        return optuna.samplers.GridSampler(
            grid_space(campaign.search_space), seed=(campaign.seed or 0) % 2**32
        )
    seed = ((campaign.seed or 0) + number) % 2**32
    if campaign.method is HpoMethod.RANDOM_SEARCH:
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(campaign: HpoCampaign) -> optuna.pruners.BasePruner:
    if campaign.method is not HpoMethod.HYPERBAND:
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(
        min_resource=campaign.budget.get("min_epochs") or 1,
        max_resource=campaign.budget.get("max_epochs") or 27,
        reduction_factor=REDUCTION_FACTOR,
    )


def study_of(
    campaign: HpoCampaign,
    trials: Sequence[StoredTrial],
    sampler: optuna.samplers.BaseSampler | None = None,
    *,
    only_completed: bool = False,
) -> optuna.Study:
    """An in-memory study holding ``trials`` (in trial-number order, so the
    study's numbers are the campaign's)."""
    direction = objective_of_campaign(campaign.objective).direction
    study = optuna.create_study(
        study_name=f"hpo-campaign-{campaign.seed}",
        direction="maximize" if direction is ObjectiveDirection.MAXIMIZE else "minimize",
        sampler=sampler,
        pruner=_pruner(campaign),
    )
    space = distributions(campaign.search_space)
    grid = grid_space(campaign.search_space) if campaign.method is HpoMethod.GRID_SEARCH else None
    frozen = []
    for trial in trials:
        if only_completed and trial.state is not HpoTrialState.COMPLETED:
            continue
        state = STATES[trial.state]
        value = trial.value if state in (TrialState.COMPLETE, TrialState.PRUNED) else None
        params = {k: v for k, v in trial.params.items() if k in space}
        frozen.append(
            create_trial(
                state=state,
                value=value,
                params=params,
                distributions={k: space[k] for k in params},
                intermediate_values=trial.intermediate,
                system_attrs=_system_attrs(trial, grid),
            )
        )
    study.add_trials(frozen)
    return study


def _system_attrs(trial: StoredTrial, grid: dict[str, list[Any]] | None) -> dict[str, Any]:
    """The trial's Optuna system attributes: the pruner's bookkeeping and, on a
    grid, its point (left out for a FAILED trial: its point is offered again)."""
    attrs = dict(trial.pruner_attrs)
    if grid is not None and trial.grid_id is not None and trial.state is not HpoTrialState.FAILED:
        attrs.update(grid_id=trial.grid_id, search_space=grid)
    return attrs


def ask(
    campaign: HpoCampaign, trials: Sequence[StoredTrial], number: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sampler's hyperparameters for trial ``number`` (= ``len(trials)``),
    and what the trial stores for the sampler (a grid search's ``grid_id``)."""
    study = study_of(campaign, trials, _sampler(campaign, number))
    asked = study.ask(distributions(campaign.search_space))
    assert asked.number == number, (asked.number, number)
    stored: dict[str, Any] = {}
    if campaign.method is HpoMethod.GRID_SEARCH:
        frozen = study.get_trials(deepcopy=False)[-1]
        stored["grid_id"] = int(frozen.system_attrs["grid_id"])
    return dict(asked.params), stored


def grid_done(campaign: HpoCampaign, trials: Sequence[StoredTrial]) -> bool:
    """Every point of a grid search's grid has a trial that did not fail."""
    held = {t.grid_id for t in trials if t.state is not HpoTrialState.FAILED}
    held.discard(None)
    return len(held) >= grid_size(campaign.search_space)


def should_prune(
    campaign: HpoCampaign, trials: Sequence[StoredTrial], current: StoredTrial
) -> tuple[bool, dict[str, Any]]:
    """Whether the pruner stops ``current`` at its last reported epoch, and the
    pruner's bookkeeping for the trial to store."""
    if campaign.method is not HpoMethod.HYPERBAND or not current.intermediate:
        return False, dict(current.pruner_attrs)
    study = study_of(campaign, trials)
    frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == current.number)
    prune = bool(study.pruner.prune(study, frozen))
    after = next(t for t in study.get_trials(deepcopy=False) if t.number == current.number)
    return prune, _jsonable(after.system_attrs)


def _jsonable(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if isinstance(v, str | int | float | bool)}


def importance(campaign: HpoCampaign, trials: Sequence[StoredTrial]) -> dict[str, float]:
    """fANOVA importance of each parameter over the COMPLETED trials (CPU-bound:
    call it in a thread); empty with fewer than 2."""
    completed = [t for t in trials if t.state is HpoTrialState.COMPLETED and t.value is not None]
    if len(completed) < 2:
        return {}
    # Imported here: fANOVA brings scikit-learn, over a second of every process's
    # startup otherwise.
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    study = study_of(campaign, completed, only_completed=True)
    evaluator = FanovaImportanceEvaluator(seed=(campaign.seed or 0) % 2**32)
    try:
        found = get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError):  # e.g. every completed trial has the same parameters
        return {}
    return {name: float(value) for name, value in found.items()}
