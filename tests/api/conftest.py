"""The API kernel's tests exercise real endpoints: the signing client book, keys and the loopback fakes."""

from tests.fakes.fixtures import *  # noqa: F403 (private Redis for the rate limit's fault tests)
from tests.signing.conftest import _media, book  # noqa: F401
