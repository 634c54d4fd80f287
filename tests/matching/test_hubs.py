"""Hub discount: a skill close to almost any text needs more than that closeness."""

from __future__ import annotations

import numpy as np
import pytest

from service.matching.hubs import HubBackground, load_hub_background


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_a_skill_close_to_all_background_text_is_discounted_and_a_specific_one_is_not() -> None:
    rng = np.random.default_rng(0)
    # background text all leaning towards one direction (the "generic" one)
    background = _unit(np.c_[np.ones(200), 0.5 * rng.standard_normal((200, 7))])
    hubs = HubBackground("test", background, top=10, weight=0.5, reference=0.6)
    generic = _unit(np.array([[1.0, 0, 0, 0, 0, 0, 0, 0]]))
    specific = _unit(np.array([[0.0, 0, 0, 0, 0, 0, 0, 1.0]]))
    d_generic, d_specific = hubs.discount(np.vstack([generic, specific]))
    assert d_generic > 0.05
    assert d_specific < 0.0  # less hub-like than a typical skill: it gains a little
    # Chinese text under an English-only encoder: no discount (trust 0)
    assert hubs.discount(generic, trust=np.array([0.0]))[0] == 0.0


def test_an_encoder_without_a_background_gets_no_discount() -> None:
    assert load_hub_background("fake-hash") is None


@pytest.mark.real_encoder
def test_generic_skills_are_hubs_for_the_served_encoder() -> None:
    from service.embeddings.loader import load_encoder

    hubs = load_hub_background("all-MiniLM-L6-v2")
    assert hubs is not None
    encoder = load_encoder("real")
    generic, specific = hubs.hubness(encoder.encode(["communication", "TIG welding of aluminium"]))
    assert generic > specific
