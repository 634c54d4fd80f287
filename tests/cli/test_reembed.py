"""``talentmatch reembed``: every stored phrase gets a vector for the configured encoder, once."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from service.db import make_engine
from service.orm import PhraseEmbedding, StateCounter
from tests.builders import make_graduate, make_org
from tests.cli.conftest import Invoke
from tests.taxonomy.conftest import ESCO_SAMPLE

Count = Callable[[type], int]


def test_reembed_fills_the_cache_for_the_encoder_and_then_has_nothing_to_do(
    invoke: Invoke, count: Count, database_url: str, client: TestClient
) -> None:
    assert invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE)).exit_code == 0
    school = make_org(client, "school")
    make_graduate(client, school, skills=[{"name": "welding of thin sheet metal", "level": 3}])
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(delete(PhraseEmbedding))  # as if another encoder had been configured
        before = conn.execute(select(StateCounter.value).where(StateCounter.name == "taxonomy")).scalar_one()

    result = invoke("reembed")
    assert result.exit_code == 0, result.output
    phrases = count(PhraseEmbedding)
    assert phrases >= 3850  # every distinct taxonomy label, plus the graduate's phrases
    assert f"{phrases:,} embedded now" in result.output
    with engine.connect() as conn:
        texts = set(conn.execute(select(PhraseEmbedding.text)).scalars())
        after = conn.execute(select(StateCounter.value).where(StateCounter.name == "taxonomy")).scalar_one()
    engine.dispose()
    assert "welding of thin sheet metal" in texts and "read assembly drawings" in texts
    assert after == before + 1  # running processes rebuild their taxonomy index

    again = invoke("reembed")
    assert again.exit_code == 0
    assert "; 0 embedded now" in again.output
    assert count(PhraseEmbedding) == phrases
