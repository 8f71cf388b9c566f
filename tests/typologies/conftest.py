import pytest

from txflags.catalogue import load_catalogue


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()
