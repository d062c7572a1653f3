"""The strategy registry: a strategy is one class, registered by its name, that states the data it needs.

Adding a strategy is one new module: subclass :class:`Strategy`, give it a ``name``, say
what it reads of a history in ``needs`` (see :mod:`rightsizer.needs`), write its
per-container rule (and, if it has one, its per-workload step), and import the module
in ``rightsizer/recommend/__init__.py``.  ``rightsizer report --strategy NAME`` and
``recommend(history, strategy=NAME)`` then find it, and the source fetches what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rightsizer.errors import RightsizerError
from rightsizer.history import ContainerHistory
from rightsizer.needs import EVERY_STEP, DataNeeds
from rightsizer.recommend.model import Recommendation

if TYPE_CHECKING:
    from rightsizer.recommend.engine import Context

#: every registered strategy by name, in the order registered
STRATEGIES: dict[str, Strategy] = {}


class Strategy:
    """A way to recommend; subclasses register themselves by ``name`` when their module is imported."""

    name: ClassVar[str]
    #: what the strategy reads of a history: the source lets the server aggregate the rest
    needs: ClassVar[DataNeeds] = EVERY_STEP
    #: learns from the whole cluster (the memory margins): a cluster read in parts is gathered before any
    #: part is recommended
    learns_from_cluster: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in STRATEGIES:
            raise TypeError(f"two strategies are named {cls.name!r}")
        STRATEGIES[cls.name] = cls()

    def begin(self, ch: ContainerHistory, ctx: Context) -> object | None:
        """The part of :meth:`container`'s work that needs no more than the container, for a strategy that
        learns from the cluster: run as each part of the cluster is read, and handed to :meth:`container`
        in ``ctx.begun``.  None: nothing to do early."""
        return None

    def container(self, ch: ContainerHistory, ctx: Context) -> Recommendation:
        """The recommendation for one container."""
        raise NotImplementedError

    def workload(self, recs: list[Recommendation], ctx: Context) -> None:
        """Adjust the recommendations of one workload's containers together (an HPA's scaling point)."""


def find(name: str) -> Strategy:
    """The strategy registered as ``name``, or a clear error listing the others."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise RightsizerError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}") from None
