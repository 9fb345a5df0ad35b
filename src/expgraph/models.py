"""Every ORM model, imported once so ``Base.metadata`` is complete (alembic, tests)."""

from expgraph.db import outbox
from expgraph.db.base import Base
from expgraph.domains.abtest import models as abtest
from expgraph.domains.accounts import models as accounts
from expgraph.domains.catalog import models as catalog
from expgraph.domains.execution import models as execution
from expgraph.domains.experiments import models as experiments
from expgraph.domains.notifications import models as notifications
from expgraph.domains.research import models as research
from expgraph.domains.simulation import models as simulation
from expgraph.domains.training import models as training

__all__ = [
    "Base",
    "abtest",
    "accounts",
    "catalog",
    "execution",
    "experiments",
    "notifications",
    "outbox",
    "research",
    "simulation",
    "training",
]
