"""Los números como se escriben en español: coma decimal y punto de miles (desde cinco cifras), con una sola regla."""

import pytest
import torch

from trazos import data, render


@pytest.mark.parametrize("value, text", [(0, "0"), (7, "7"), (999, "999"), (1000, "1000"), (9930, "9930"),
                                         (10000, "10.000"), (18496, "18.496"), (421642, "421.642"),
                                         (47040016, "47.040.016"), (-1234, "-1234"), (-12345, "-12.345"),
                                         (torch.tensor(1234), "1234"), (torch.tensor(12345), "12.345"), (3.0, "3")])
def test_integer(value, text):
    assert render.integer(value) == text


def test_integer_and_decimal_follow_the_same_rule():
    assert render.integer(12345) + render.decimal(0.5, 1)[1:] == "12.345,5"


def test_the_mnist_help_writes_its_sizes_with_integer(tmp_path):
    message = data._help(tmp_path)
    for size, _ in data.MNIST_FILES.values():
        assert f"({render.integer(size)} bytes)" in message
