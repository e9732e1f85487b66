"""The cmcKey wrapper: masked everywhere it could be printed, revealed only on request."""

from __future__ import annotations

import copy
import logging
import pickle
from collections.abc import Callable

import pytest

from etims_pipeline.etims.client import DeviceCredentials
from etims_pipeline.etims.secret import MASK, Secret

KEY = "cmc-3F9A1B7C2D-super-secret"


@pytest.mark.parametrize(
    "render",
    [repr, str, lambda s: f"{s}", lambda s: f"{s!r}", lambda s: "%s" % (s,), "{}".format, "{!r}".format],  # noqa: UP031
)
def test_every_rendering_is_masked(render: Callable[[Secret], str]) -> None:
    text = render(Secret(KEY))
    assert KEY not in text
    assert text == f"Secret({MASK})"


def test_reveal_gives_the_value() -> None:
    assert Secret(KEY).reveal() == KEY


def test_containers_and_dataclasses_do_not_leak_it() -> None:
    credentials = DeviceCredentials(tin="P051365947M", bhf_id="00", cmc_key=Secret(KEY))
    assert KEY not in repr(credentials)
    assert KEY not in str([Secret(KEY)])
    assert KEY not in str({"cmcKey": Secret(KEY)})
    assert credentials.headers() == {"tin": "P051365947M", "bhfId": "00", "cmcKey": KEY}


def test_logging_it_prints_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test.secret").info("key is %s", Secret(KEY))
    assert KEY not in caplog.text
    assert MASK in caplog.text


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_not_picklable(protocol: int) -> None:
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(KEY), protocol=protocol)


def test_not_copyable_through_pickle_machinery() -> None:
    with pytest.raises(TypeError, match="not picklable"):
        copy.deepcopy(Secret(KEY))


def test_equality_and_hash_follow_the_value() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret("other")
    assert Secret(KEY) != KEY  # a bare string is not a Secret
    assert hash(Secret(KEY)) == hash(Secret(KEY))
    assert len({Secret(KEY), Secret(KEY), Secret("other")}) == 2


@pytest.mark.parametrize(("value", "truthy"), [(KEY, True), ("", False)])
def test_truthiness_says_whether_a_key_is_set(value: str, truthy: bool) -> None:
    assert bool(Secret(value)) is truthy


def test_no_instance_dict_to_poke_at() -> None:
    assert not hasattr(Secret(KEY), "__dict__")
