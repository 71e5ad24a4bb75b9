"""Which sub-order subtotals a buyer can build from one store's prices and purchase limits.

A bounded knapsack over amounts (in steps of the prices' greatest common divisor), each
product's units split in powers of two, as a numpy bitset. It answers "the smallest subtotal of
at least T a buyer can really reach" (the worst basket for a coupon of threshold T) and gives
back a basket that reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Above this many amount steps × unit chunks the table is not built; callers fall back to the
# sound assumption that every amount is reachable.
WORK_LIMIT = 400_000_000


@dataclass(frozen=True)
class _Chunk:
    product: int
    units: int


class Reachability:
    """Reachable subtotals up to ``horizon_fen`` for units at ``prices_fen`` within ``limits``.

    ``limits[i]`` is the most units of product ``i`` a buyer may take (``0``: no limit).
    """

    def __init__(
        self,
        prices_fen: npt.NDArray[np.int64],
        limits: npt.NDArray[np.int64],
        horizon_fen: int,
    ) -> None:
        positive = prices_fen[prices_fen > 0]
        self.step = int(np.gcd.reduce(positive)) if len(positive) else 1
        size = horizon_fen // self.step + 2
        self.size = size
        reachable = np.zeros(size, dtype=bool)
        reachable[0] = True
        made_by = np.full(size, -1, dtype=np.int32)
        self._chunks: list[_Chunk] = []
        self._steps_by_product = [max(int(p) // self.step, 0) for p in prices_fen]
        for product, (price, limit) in enumerate(zip(prices_fen, limits, strict=True)):
            if price <= 0:
                continue
            steps = int(price) // self.step
            useful = (size - 1) // steps + 1
            units_left = useful if limit <= 0 else min(int(limit), useful)
            chunk = 1
            while units_left > 0:
                take = min(chunk, units_left)
                shift = take * steps
                if shift < size:
                    fresh = np.flatnonzero(reachable[: size - shift] & ~reachable[shift:]) + shift
                    if len(fresh):
                        reachable[fresh] = True
                        made_by[fresh] = len(self._chunks)
                    self._chunks.append(_Chunk(product, take))
                units_left -= take
                chunk *= 2
        self._reachable = reachable
        self._made_by = made_by
        # next_reachable[x]: the smallest reachable step count >= x (size when none).
        positions = np.where(reachable, np.arange(size), size)
        self._next = np.minimum.accumulate(positions[::-1])[::-1]

    @staticmethod
    def affordable(prices_fen: npt.NDArray[np.int64], horizon_fen: int) -> bool:
        """Whether building the table stays within the work limit."""
        positive = prices_fen[prices_fen > 0]
        if not len(positive):
            return True
        step = int(np.gcd.reduce(positive))
        size = horizon_fen // step + 2
        chunks = sum(
            max(1, math.ceil(math.log2(size // max(int(p) // step, 1) + 2))) for p in positive
        )
        return size * chunks <= WORK_LIMIT

    def smallest_at_least(self, target_fen: int) -> int | None:
        """The smallest reachable subtotal ``>= target_fen`` (``None`` beyond the horizon)."""
        index = max(0, -(-target_fen // self.step))
        if index >= self.size:
            return None
        found = int(self._next[index])
        return None if found >= self.size else found * self.step

    def smallest_at_least_many(self, targets_fen: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """:meth:`smallest_at_least` for many targets at once; ``-1`` beyond the horizon."""
        index = np.clip(-(-targets_fen // self.step), 0, self.size - 1)
        found = self._next[index]
        beyond = (found >= self.size) | (-(-targets_fen // self.step) >= self.size)
        return np.where(beyond, -1, found * self.step).astype(np.int64)

    def basket(self, subtotal_fen: int) -> dict[int, int]:
        """Units per product (by index) that add up to a reachable ``subtotal_fen``."""
        position = subtotal_fen // self.step
        if subtotal_fen % self.step or not self._reachable[position]:
            raise ValueError(f"{subtotal_fen} fen is not a reachable subtotal")
        units: dict[int, int] = {}
        while position > 0:
            chunk = self._chunks[int(self._made_by[position])]
            units[chunk.product] = units.get(chunk.product, 0) + chunk.units
            position -= chunk.units * self._steps_by_product[chunk.product]
        return units
