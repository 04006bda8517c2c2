"""Track life cycle by data time (never scan counts: sensors rotate at different rates).

* tentative → confirmed: at least ``M`` reports within the first ``N`` expected updates
  (expected updates are counted at the nominal revisit period ``revisit_s``: a track first
  seen at ``t₀`` has had ``1 + round((t − t₀)/revisit_s)`` chances by time ``t``), and
  reports that fit: the mean normalised innovation ``d²`` of the updates after the two
  initiating reports at most ``confirm_nis_max`` (χ²₂ 99 %: a real target's ``d²`` is χ²₂,
  a clutter plot's is spread over the whole gate). Tentative tracks that used up their
  ``N`` chances are deleted.
* confirmed → coasting: no report for ``coast_after_s``; coasting → confirmed on a report.
* deleted: no report for ``delete_after_s``; ``young_delete_after_s`` while the track has
  fewer than ``young_updates`` reports (a false track dies fast, an established one
  coasts); ``delete_identified_after_s`` for tracks holding a 24-bit address (cooperative
  sensors keep reporting through gaps); or a position uncertainty beyond
  ``max_position_sigma_m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skyfuse.track.table import TrackStatus, TrackTable

__all__ = ["LifecycleRules", "advance_status"]


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """Confirmation and deletion settings, all in seconds of data time."""

    confirm_m: int = 3
    confirm_n: int = 4
    revisit_s: float = 1.0
    coast_after_s: float = 1.5
    delete_after_s: float = 5.0
    young_delete_after_s: float = 3.0
    young_updates: int = 6
    confirm_nis_max: float = 9.21
    delete_identified_after_s: float = 60.0
    max_position_sigma_m: float = 5000.0


def advance_status(
    table: TrackTable, t_s: float, rules: LifecycleRules, position_var_m2: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Update ``table.status`` and ``table.quality`` in place at time ``t_s``.

    ``position_var_m2[K]`` is each track's horizontal position variance (trace) predicted to
    ``t_s``. Returns the mask of rows to keep.
    """
    st = table.status
    age = t_s - table.t_s
    chances = 1.0 + np.floor((t_s - table.t_first_s) / rules.revisit_s + 0.5)
    table.quality[:] = np.minimum(1.0, table.n_updates / np.maximum(chances, 1.0))
    tent = st == _TENTATIVE
    nup = table.n_updates
    fitted = table.nis_sum <= rules.confirm_nis_max * np.maximum(nup - 2, 1)
    confirm = tent & (nup >= rules.confirm_m) & fitted
    expired_tentative = tent & ~confirm & (chances >= rules.confirm_n)
    live = ~tent | confirm
    # live tracks: coasting after coast_after_s without a report, confirmed otherwise
    st[live] = np.where(age[live] > rules.coast_after_s, _COASTING, _CONFIRMED)
    limit = np.where(table.icao24 >= 0, rules.delete_identified_after_s,
                     np.where(nup < rules.young_updates, rules.young_delete_after_s,
                              rules.delete_after_s))
    lost = (age > limit) | (position_var_m2 > rules.max_position_sigma_m**2)
    return ~(expired_tentative | lost)


# plain integers: numpy compares and assigns them without an IntEnum round trip
_TENTATIVE, _CONFIRMED, _COASTING = (int(TrackStatus.TENTATIVE), int(TrackStatus.CONFIRMED),
                                     int(TrackStatus.COASTING))
