"""Chapter 5's forget-gate bias initialisation (dlcourse.models.rnn.set_forget_bias)."""
import pytest
import torch
from torch import nn

from dlcourse.models import ScratchRecurrent, SequenceRegressor, SequenceRegressorConfig
from dlcourse.models.rnn import set_forget_bias


@pytest.mark.parametrize("layers", [1, 2])
def test_forget_bias_sets_only_the_forget_block(layers):
    lstm = nn.LSTM(3, 5, num_layers=layers, batch_first=True)
    before = {k: v.clone() for k, v in lstm.state_dict().items()}
    set_forget_bias(lstm, 1.0)
    for k in range(layers):
        b_ih, b_hh = getattr(lstm, f"bias_ih_l{k}"), getattr(lstm, f"bias_hh_l{k}")
        assert torch.equal(b_ih[5:10], torch.ones(5)) and torch.equal(b_hh[5:10], torch.zeros(5))
        for name, b in [(f"bias_ih_l{k}", b_ih), (f"bias_hh_l{k}", b_hh)]:  # i, g, o blocks untouched
            assert torch.equal(b[:5], before[name][:5]) and torch.equal(b[10:], before[name][10:])
        assert torch.equal(getattr(lstm, f"weight_hh_l{k}"), before[f"weight_hh_l{k}"])


def test_forget_gate_starts_at_sigmoid_of_the_bias():
    # with zero weights the forget gate is exactly σ(total bias) = σ(1)
    lstm = nn.LSTM(2, 4, batch_first=True)
    scratch = ScratchRecurrent("lstm", 2, 4)
    scratch.load_state_dict(lstm.state_dict())
    with torch.no_grad():
        scratch.weight_ih_l0.zero_()
        scratch.weight_hh_l0.zero_()
    set_forget_bias(scratch, 1.0)
    gates = scratch(torch.randn(3, 6, 2), return_gates=True)[2]
    assert torch.allclose(gates["forget"], torch.sigmoid(torch.tensor(1.0)).expand(3, 6, 4))


def test_regressor_config_forget_bias():
    model = SequenceRegressor(SequenceRegressorConfig(input_size=2, hidden=8, cell="lstm", forget_bias=1.0))
    assert torch.equal(model.rnn.bias_ih_l0[8:16] + model.rnn.bias_hh_l0[8:16], torch.ones(8))
    default = SequenceRegressor(SequenceRegressorConfig(input_size=2, hidden=8, cell="lstm"))
    assert not torch.equal(default.rnn.bias_ih_l0[8:16] + default.rnn.bias_hh_l0[8:16], torch.ones(8))
    with pytest.raises(ValueError, match="needs an LSTM"):
        SequenceRegressor(SequenceRegressorConfig(cell="rnn", forget_bias=1.0))
