"""The held-out benchmark's metrics and its behaviour without the cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import heldout


def test_skips_with_a_message_when_the_cases_are_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TALENTMATCH_EVAL_DIR", str(tmp_path / "nowhere"))
    assert heldout.main([]) == 0
    assert "skipped" in capsys.readouterr().out


def test_ranking_metrics_reward_the_right_order() -> None:
    relevance = {"d": {"a": 2, "b": 1}}
    perfect = heldout.ranking_metrics({"d": ["a", "b", "x"]}, relevance)
    worse = heldout.ranking_metrics({"d": ["x", "b", "a"]}, relevance)
    assert perfect == {"nDCG@10": pytest.approx(1.0), "MAP@10": 1.0, "P@5": 0.2}
    assert worse["nDCG@10"] < perfect["nDCG@10"]
    assert worse["MAP@10"] == pytest.approx(1 / 3)


def test_status_mix_and_gap_f1_count_taught_and_untaught_apart() -> None:
    status = np.array(["covered", "gap", "gap", "partial"])
    taught = np.array([True, True, False, False])
    m = heldout.gap_metrics(np.array([0.9, 0.2, 0.1, 0.5]), taught, status)
    assert m["mix"]["taught"] == {"covered": 0.5, "partial": 0.0, "gap": 0.5}
    assert m["mix"]["untaught"] == {"covered": 0.0, "partial": 0.5, "gap": 0.5}
    assert m["gap_F1"] == pytest.approx(0.5)
