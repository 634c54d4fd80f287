"""/docs and /redoc work on a network without internet access: every asset comes from the service."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_reference_no_external_url(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    html = r.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    refs = [a or b for a, b in _URL.findall(html)]
    assert refs, "the page loads no script: the test would prove nothing"
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 0
