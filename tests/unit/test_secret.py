"""A Secret prints as *** however it is printed; only reveal() gives the value."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from workstation.bitstamp.secret import Secret

VALUE = "PlantedSecretValue0123456789"


def test_every_way_of_printing_it_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(VALUE)
    shown = [str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"]
    shown.append("%s" % secret)  # noqa: UP031 - the old way of formatting, on purpose
    shown.append(repr({"secret": secret, "list": [secret]}))
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("secret %s %r", secret, secret)
    shown.append(caplog.text)
    try:
        raise ValueError(secret)
    except ValueError as exc:
        shown += [str(exc), repr(exc)]
    for text in shown:
        assert VALUE not in text
        assert "***" in text
    assert secret.reveal() == VALUE
    assert secret.tail() == "…6789"
    assert len(secret) == len(VALUE)


def test_equality_is_by_value_and_it_never_pickles() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret(VALUE + "x")
    assert Secret(VALUE) != VALUE  # a str is not a Secret
    with pytest.raises(TypeError):
        pickle.dumps(Secret(VALUE))
    with pytest.raises(TypeError):
        copy.copy(Secret(VALUE))
    with pytest.raises(TypeError):
        Secret(VALUE.encode())  # type: ignore[arg-type]
