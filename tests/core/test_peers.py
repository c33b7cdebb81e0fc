"""Peer statistics, percentiles as Excel PERCENTILE.INC, implied values, venue gap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpuval.core import (
    InputError,
    PeerStats,
    apply_venue_gap,
    implied_values,
    peer_stats,
    peer_values,
    percentile_inc,
    venue_gap,
)

PEERS = {
    "Cambricon": 400.0,
    "Moore Threads": 150.0,
    "MetaX": 200.0,
    "Hygon": 100.0,
    "Kunlunxin": None,  # missing
    "Iluvatar": float("nan"),  # missing
    "Biren": 80.0,  # the target
}


class TestPercentileInc:
    def test_excel_documentation_example(self) -> None:
        # Excel's help: PERCENTILE.INC({1,2,3,4}, 0.3) = 1.9 (h = 3 x 0.3 = 0.9 -> 1 + 0.9 x 1)
        assert percentile_inc([1.0, 2.0, 3.0, 4.0], 0.3) == pytest.approx(1.9, rel=1e-15)

    def test_unsorted_input(self) -> None:
        # sorted 15, 20, 35, 40, 50; k = 0.4 -> h = 4 x 0.4 = 1.6 -> 20 + 0.6 x (35 - 20) = 29
        assert percentile_inc([50.0, 15.0, 40.0, 20.0, 35.0], 0.4) == pytest.approx(29.0)

    def test_endpoints_are_min_and_max(self) -> None:
        assert percentile_inc([3.0, 1.0, 2.0], 0.0) == 1.0
        assert percentile_inc([3.0, 1.0, 2.0], 1.0) == 3.0

    def test_vectorised_over_k(self) -> None:
        np.testing.assert_allclose(
            percentile_inc([1.0, 2.0, 3.0, 4.0, 5.0], [0.25, 0.5]), [2.0, 3.0]
        )

    def test_k_is_a_fraction_not_a_percentage(self) -> None:
        with pytest.raises(InputError, match=r"^k must be between 0 and 1, got 25\.$"):
            percentile_inc([1.0, 2.0], 25)

    def test_empty(self) -> None:
        with pytest.raises(InputError, match="values has no values left"):
            percentile_inc([], 0.5)


class TestPeerValues:
    def test_drops_target_and_missing(self) -> None:
        assert sorted(peer_values(PEERS, target="Biren").tolist()) == [100.0, 150.0, 200.0, 400.0]

    def test_keeps_target_when_not_named(self) -> None:
        assert 80.0 in peer_values(PEERS).tolist()

    def test_sequence(self) -> None:
        assert peer_values([1.0, None, np.nan, 2]).tolist() == [1.0, 2.0]

    def test_sequence_with_target_is_an_error(self) -> None:
        with pytest.raises(InputError, match="must be a mapping of names to numbers to exclude"):
            peer_values([1.0, 2.0], target="Biren")

    def test_text_value_rejected(self) -> None:
        with pytest.raises(InputError, match="peers value for MetaX must be a number, got 'n/a'"):
            peer_values({"MetaX": "n/a"})

    def test_infinite_value_rejected(self) -> None:
        with pytest.raises(InputError, match="must be a finite number, got inf"):
            peer_values({"MetaX": math.inf})

    def test_not_a_collection(self) -> None:
        with pytest.raises(InputError, match="must be a mapping of names to numbers or a list"):
            peer_values("Cambricon")  # type: ignore[arg-type]


class TestPeerStats:
    def test_hand_worked(self) -> None:
        # peers left: 100, 150, 200, 400 (target and two missing removed)
        s = peer_stats(PEERS, target="Biren")
        assert s.count == 4
        assert s.minimum == 100.0
        assert s.p25 == pytest.approx(137.5)  # h = 3 x 0.25 = 0.75 -> 100 + 0.75 x 50
        assert s.median == pytest.approx(175.0)  # h = 1.5 -> 150 + 0.5 x 50
        assert s.mean == pytest.approx(212.5)  # 850 / 4
        assert s.p75 == pytest.approx(250.0)  # h = 2.25 -> 200 + 0.25 x 200
        assert s.maximum == 400.0

    def test_as_dict_order(self) -> None:
        d = peer_stats([1.0, 2.0]).as_dict()
        assert list(d) == ["count", "minimum", "p25", "median", "mean", "p75", "maximum"]

    def test_single_peer(self) -> None:
        assert peer_stats({"A": 5.0}) == PeerStats(1, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0)

    def test_nothing_left(self) -> None:
        with pytest.raises(
            InputError, match=r"^peers has no values left after removing the target"
        ):
            peer_stats({"Biren": 80.0, "X": None}, target="Biren")


class TestImpliedValues:
    def test_hand_worked(self) -> None:
        # target revenue 0.5 bn; peer P/S P25 = 137.5, median 175, P75 250 (see TestPeerStats)
        v = implied_values(0.5e9, PEERS, target="Biren")
        assert v[0.25] == pytest.approx(68.75e9)  # 137.5 x 0.5 bn
        assert v[0.5] == pytest.approx(87.5e9)  # 175 x 0.5 bn
        assert v[0.75] == pytest.approx(125e9)  # 250 x 0.5 bn

    def test_fx_and_custom_percentiles(self) -> None:
        # min and max multiples (100, 400) x CNY 1 bn x 1.1 HKD/CNY
        v = implied_values(1e9, PEERS, ks=(0.0, 1.0), target="Biren", fx=1.1)
        assert v == pytest.approx({0.0: 110e9, 1.0: 440e9})

    def test_vectorised_metric(self) -> None:
        v = implied_values([1.0, 2.0], {"A": 10.0, "B": 20.0}, ks=(0.5,))
        np.testing.assert_allclose(v[0.5], [15.0, 30.0])

    def test_negative_metric_rejected(self) -> None:
        with pytest.raises(InputError, match="metric must be 0 or more"):
            implied_values(-1.0, PEERS)


class TestVenueGap:
    def test_hand_worked(self) -> None:
        # A-share median of 120, 160, 200 = 160; Hong Kong median of 40, 80 = 60; 160 / 60
        gap = venue_gap({"Cambricon": 120.0, "Moore Threads": 200.0, "MetaX": 160.0},
                        {"Biren": 80.0, "Iluvatar": 40.0})  # fmt: skip
        assert gap == pytest.approx(8 / 3)

    def test_target_excluded_from_both_venues(self) -> None:
        # HK without Biren: median of 40 and 60 = 50; A median 160 -> 3.2
        a_share = {"Cambricon": 120.0, "Moore Threads": 200.0, "MetaX": 160.0}
        hong_kong = {"Biren": 80.0, "Iluvatar": 40.0, "Kunlunxin": 60.0}
        gap = venue_gap(a_share, hong_kong, target="Biren")
        assert gap == pytest.approx(3.2)

    def test_nonpositive_hong_kong_median(self) -> None:
        with pytest.raises(InputError, match="hong_kong_peers must have a positive median, got -5"):
            venue_gap([10.0], [-5.0])

    def test_empty_venue(self) -> None:
        with pytest.raises(InputError, match=r"^a_share_peers has no values left"):
            venue_gap([None], [1.0])


class TestApplyVenueGap:
    @pytest.mark.parametrize(
        ("closed", "expected"),
        [(0.0, 80.0), (0.5, 120.0), (1.0, 160.0)],  # 80 x (1 + c x (2 - 1))
    )
    def test_hand_worked(self, closed: float, expected: float) -> None:
        assert apply_venue_gap(80.0, 2.0, closed) == expected

    def test_closed_must_be_a_fraction(self) -> None:
        with pytest.raises(InputError, match=r"closed must be between 0 and 1, got 1\.5"):
            apply_venue_gap(80.0, 2.0, 1.5)

    def test_gap_must_be_positive(self) -> None:
        with pytest.raises(InputError, match="gap must be greater than 0"):
            apply_venue_gap(80.0, 0.0)
