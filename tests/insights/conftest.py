from tests.gaps.conftest import real_client

__all__ = ["real_client"]
