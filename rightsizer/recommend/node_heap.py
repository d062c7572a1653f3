"""Node.js: a ``--max-old-space-size`` that fits the memory limit, or a limit that fits the heap.

V8 sizes its old space from the memory it sees: since Node 20.3 (libuv 1.45) that is
the cgroup v2 limit, and the default is about half of it, capped near 2 GB (4 GB on
hosts with 15 GB or more), so above ~4 GiB a bigger limit gives no bigger heap.
Node 18 does not read cgroup v2 limits at all and sizes the heap from the node's
memory, so a small container can be OOMKilled before V8 ever collects.  An explicit
flag makes the heap follow the limit on every version.

The flag is a share of the limit (``heap_share``, 75%) that still leaves room for what
lives outside the V8 heap (RSS minus heap total, measured, at a high percentile: code,
stacks, Buffers) and for the young generation.  When the heap the service actually
uses (a high percentile of heap used, plus headroom) does not fit, the memory limit is
raised rather than the heap starved.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass

import numpy as np

from rightsizer.config import NodePolicy
from rightsizer.recommend.order import percentile
from rightsizer.units import MiB

_FLAG = re.compile(r"^--max-old-space-size(-percentage)?(=.*)?$")
#: the flag inside a shell command line (``sh -c "node --max-old-space-size=512 app.js"``)
_INLINE = re.compile(r"--max-old-space-size(-percentage)?(=|\s+)\S+")
_MIN_HEAP_MIB = 16


@dataclass(frozen=True)
class HeapAdvice:
    max_old_space_mib: int
    memory_limit: float  # bytes: the limit the flag was sized for (raised when the heap did not fit)
    heap_need: float  # bytes: observed heap used at the percentile, plus headroom
    nonheap: float  # bytes: RSS minus heap total at the percentile
    raised: bool
    young: float = 0.0  # bytes kept for the young generation

    @property
    def share(self) -> float:
        """The flag as a share of the limit it was sized for: what the reasons say."""
        return self.max_old_space_mib * MiB / self.memory_limit if self.memory_limit else 0.0


def size_heap(memory_limit: float, heap_used: np.ndarray, heap_total: np.ndarray, rss: np.ndarray,
              policy: NodePolicy, granularity: float = MiB) -> HeapAdvice:
    """Size the old space for ``memory_limit``.

    Without heap metrics (a Node.js image without prom-client) the flag comes from the
    limit alone: the share, with a quarter of the limit kept for what lives outside the
    heap; nothing is known to need more.
    """
    used = heap_used[np.isfinite(heap_used)]
    both = np.isfinite(rss) & np.isfinite(heap_total)
    outside = (rss[both] - heap_total[both]).astype(np.float64)
    nonheap = percentile(outside, policy.nonheap_percentile) if len(outside) else 0.25 * memory_limit
    nonheap = max(nonheap, 0.0)
    need = percentile(used, policy.heap_percentile) * (1 + policy.heap_headroom) \
        if len(used) else 0.0

    def old_space(limit: float) -> float:
        return min(policy.heap_share * limit, limit - nonheap - policy.young_generation)

    need = max(need, _MIN_HEAP_MIB * MiB)  # V8 will not start a usable heap below this
    limit = memory_limit
    raised = False
    if old_space(limit) < need:
        wanted = max(need / policy.heap_share, need + nonheap + policy.young_generation)
        limit = math.ceil(wanted / granularity) * granularity
        raised = limit > memory_limit
    mib = int(old_space(limit) // MiB)
    return HeapAdvice(mib, limit, need, nonheap, raised, policy.young_generation)


def merge_node_options(existing: str | None, max_old_space_mib: int) -> str:
    """NODE_OPTIONS with our heap flag, the container's other flags kept in order.

    ``--max-old-space-size-percentage`` (Node >= 22.21) would take precedence over the
    MiB form, so it is removed along with any previous ``--max-old-space-size``.
    """
    flags = shlex.split(existing or "")
    kept: list[str] = []
    skip_next = False
    for i, flag in enumerate(flags):
        if skip_next:
            skip_next = False
            continue
        match = _FLAG.match(flag)
        if match:
            skip_next = match.group(2) is None and i + 1 < len(flags) and not flags[i + 1].startswith("-")
            continue
        kept.append(flag)
    return shlex.join([*kept, f"--max-old-space-size={max_old_space_mib}"])


def heap_flags(words: list[str]) -> list[tuple[str, float]]:
    """The heap flags a node command line (or NODE_OPTIONS, split) sets, in order: ``("MiB", 512)`` for
    ``--max-old-space-size=512`` (or ``... 512``), ``("%", 75)`` for the percentage form; flags inside a shell
    line (``sh -c "node --max-old-space-size=512 app.js"``) count too."""
    out: list[tuple[str, float]] = []
    for i, word in enumerate(words):
        match = _FLAG.match(word)
        texts = [(match.group(1), match.group(2)[1:] if match.group(2) else
                  (words[i + 1] if i + 1 < len(words) else ""))] if match else \
            [(m.group(1), m.group(0).split("=", 1)[1] if m.group(2) == "=" else m.group(0).split()[-1])
             for m in _INLINE.finditer(word)]
        for percentage, text in texts:
            try:
                out.append(("%" if percentage else "MiB", float(text)))
            except ValueError:
                continue
    return out


@dataclass(frozen=True)
class FlagPlacement:
    """Where the heap flag is written: the container's NODE_OPTIONS, or its command/args where it already is.

    A flag on node's command line wins over NODE_OPTIONS, so when the container sets
    ``--max-old-space-size`` in ``command`` or ``args`` that flag is edited in place;
    NODE_OPTIONS is then left alone unless it held a flag too (edited, so both agree).
    """

    where: str  # "NODE_OPTIONS", "command" or "args"
    node_options: str | None  # the whole merged NODE_OPTIONS value to write (None: leave it as it is)
    command: list[str] | None  # the edited command (None: unchanged)
    args: list[str] | None  # the edited args (None: unchanged)


def _edit_words(words: list[str] | None, flag: str) -> list[str] | None:
    """``words`` with every heap flag replaced by ``flag`` (None when none held one)."""
    if not words:
        return None
    out: list[str] = []
    changed = False
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        match = _FLAG.match(word)
        if match:
            skip = match.group(2) is None and i + 1 < len(words) and not words[i + 1].startswith("-")
            if not changed:
                out.append(flag)
            changed = True
            continue
        if _INLINE.search(word):  # a shell line: replace inside it
            word = _INLINE.sub(flag, word)
            changed = True
        out.append(word)
    return out if changed else None


def place_heap_flag(max_old_space_mib: int, node_options: str | None = None, command: list[str] | None = None,
                    args: list[str] | None = None) -> FlagPlacement:
    """Where and how to write ``--max-old-space-size`` so that it is the flag node actually uses."""
    flag = f"--max-old-space-size={max_old_space_mib}"
    new_command = _edit_words(command, flag)
    new_args = _edit_words(args, flag)
    if new_command is None and new_args is None:
        return FlagPlacement("NODE_OPTIONS", merge_node_options(node_options, max_old_space_mib), None, None)
    in_env = node_options is not None and any(_FLAG.match(f) for f in shlex.split(node_options))
    return FlagPlacement("args" if new_args is not None else "command",
                         merge_node_options(node_options, max_old_space_mib) if in_env else None,
                         new_command, new_args)
