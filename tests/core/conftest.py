from tests.fakes.fixtures import *  # noqa: F403 (the private Redis, the loopback fakes and the worker)
