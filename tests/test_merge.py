"""K-way merge of recordings in data time (:mod:`skyfuse.runtime.merge`)."""

from __future__ import annotations

import numpy as np

from skyfuse.runtime.merge import FramePiece, merge_by_time


def _source(times: np.ndarray, tag: int, chunk: int):
    for i in range(0, len(times), chunk):
        t = times[i:i + chunk]
        yield FramePiece(t, [bytes([tag, k]) for k in range(i, i + len(t))])


def test_rounds_are_in_time_order_across_sources() -> None:
    rng = np.random.default_rng(1)
    srcs = [np.sort(rng.uniform(a, a + 100, n)) for a, n in ((0, 250), (30, 90), (200, 40))]
    rounds = list(merge_by_time([_source(t, k, c) for k, (t, c) in
                                 enumerate(zip(srcs, (17, 50, 7), strict=True))]))
    seen: list[float] = []
    per_source: dict[int, list[bytes]] = {0: [], 1: [], 2: []}
    for r in rounds:
        lo = min(float(p.t_s.min()) for _, p in r)
        assert not seen or lo >= max(seen)              # nothing earlier than a past round
        for i, p in r:
            seen.extend(p.t_s.tolist())
            per_source[i].extend(p.frames)
    assert sorted(seen) == sorted(np.concatenate(srcs).tolist())
    for k, t in enumerate(srcs):                       # every row once, in source order
        assert per_source[k] == [bytes([k, j]) for j in range(len(t))]


def test_single_source_pieces_pass_unchanged_and_nan_goes_out() -> None:
    t = np.array([0.0, 2.0, 1.0, np.nan, 3.0, 5.0])    # not sorted: kept as is
    pieces = list(_source(t, 0, 2))
    rounds = list(merge_by_time([iter(pieces)]))
    assert [r[0][1] for r in rounds] == pieces
    nan_first = [FramePiece(np.array([np.nan, np.nan]), [b"a", b"b"])]
    later = [FramePiece(np.array([10.0]), [b"c"])]
    out = list(merge_by_time([iter(nan_first), iter(later)]))
    assert [p.frames for r in out for _, p in r] == [[b"a", b"b"], [b"c"]]
