"""Int4WeightOnlyLinear: torchao's int4 quantization served from plain tensors, same numbers as torchao's subclass."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from chatbot.generation.int4_linear import Int4WeightOnlyLinear


def _linear(bias: bool = False) -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(64, 48, bias=bias).to(torch.bfloat16)


def test_same_output_as_torchaos_int4_subclass_bit_for_bit() -> None:
    from torchao.prototype.quantization.int4 import PrototypeInt4WeightOnlyConfig
    from torchao.quantization import quantize_

    linear = _linear()
    ours = Int4WeightOnlyLinear.from_linear(linear, group_size=32)
    reference = _linear()
    quantize_(reference, PrototypeInt4WeightOnlyConfig(group_size=32))
    x = torch.randn(2, 3, 64, dtype=torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(ours(x), reference(x))
        assert ours(x).shape == (2, 3, 48)
        # and it is a 4-bit approximation of the layer, not something else
        assert (ours(x) - linear(x)).abs().max() < 0.1 * linear(x).abs().max()


def test_state_dict_is_plain_tensors_and_fills_an_empty_module(tmp_path: Path) -> None:
    linear = _linear(bias=True)
    ours = Int4WeightOnlyLinear.from_linear(linear, group_size=32)
    state = ours.state_dict()
    assert sorted(state) == ["bias", "qdata", "scale_and_zero"]
    assert all(type(t) is torch.Tensor for t in state.values())  # no subclass: loads with weights_only=True
    torch.save(state, tmp_path / "w.pt")
    empty = Int4WeightOnlyLinear(64, 48, 32, torch.bfloat16, bias=torch.zeros(48, dtype=torch.bfloat16))
    empty.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True), assign=True)
    x = torch.randn(5, 64, dtype=torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(empty(x), ours(x))


def test_input_features_must_divide_into_groups() -> None:
    with pytest.raises(ValueError, match="not a multiple of the group size 32"):
        Int4WeightOnlyLinear(48, 16, group_size=32)
