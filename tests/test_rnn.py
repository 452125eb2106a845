"""Recurrent layers written step by step, against PyTorch's nn.RNN / nn.LSTM / nn.GRU; smoke tests of
the sequence models."""
import math

import pytest
import torch
from torch import nn

from dlcourse import data, train
from dlcourse.models import (BagOfWords, CharLM, CharLMConfig, ScratchRecurrent, SequenceClassifier,
                             SequenceClassifierConfig, SequenceRegressor, SequenceRegressorConfig, lengths_of)

BUILTIN = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_scratch_layers_equal_pytorch_with_copied_weights(kind, num_layers):
    torch.manual_seed(0)
    builtin = BUILTIN[kind](5, 7, num_layers, batch_first=True)
    scratch = ScratchRecurrent(kind, 5, 7, num_layers)
    scratch.load_state_dict(builtin.state_dict())  # same names, same shapes
    x = torch.randn(3, 11, 5)
    h0 = torch.randn(num_layers, 3, 7)
    state = (h0, torch.randn(num_layers, 3, 7)) if kind == "lstm" else h0
    for s in [None, state]:
        out_ref, final_ref = builtin(x, s)
        out, final = scratch(x, s)
        torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)
        for a, b in zip(final if kind == "lstm" else [final], final_ref if kind == "lstm" else [final_ref]):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_relu_rnn_and_gradients_match_too():
    torch.manual_seed(1)
    builtin = nn.RNN(4, 6, 2, nonlinearity="relu", batch_first=True)
    scratch = ScratchRecurrent("rnn", 4, 6, 2, nonlinearity="relu")
    scratch.load_state_dict(builtin.state_dict())
    x = torch.randn(2, 9, 4)
    builtin(x)[0].sum().backward()
    scratch(x)[0].sum().backward()
    for name, p in builtin.named_parameters():
        torch.testing.assert_close(getattr(scratch, name).grad, p.grad, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="nonlinearity"):
        ScratchRecurrent("lstm", 4, 6, nonlinearity="relu")


def test_lstm_gates_are_returned_and_bounded():
    scratch = ScratchRecurrent("lstm", 3, 4)
    out, (h, c), gates = scratch(torch.randn(2, 6, 3), return_gates=True)
    assert set(gates) == {"input", "forget", "output", "cell"}
    for name in ["input", "forget", "output"]:
        assert gates[name].shape == (2, 6, 4) and ((gates[name] > 0) & (gates[name] < 1)).all()
    torch.testing.assert_close(gates["cell"][:, -1], c[0])
    torch.testing.assert_close(out[:, -1], gates["output"][:, -1] * torch.tanh(c[0]))  # h = o ⊙ tanh(c)


def test_lengths_of_right_padded_ids():
    x = torch.tensor([[5, 6, 7, 0], [5, 0, 0, 0], [0, 0, 0, 0], [3, 0, 4, 0]])
    assert lengths_of(x).tolist() == [3, 1, 1, 3]  # an inner 0 is kept; an empty row counts 1


def test_sequence_classifier_ignores_padding():
    torch.manual_seed(0)
    for cell in ["rnn", "lstm", "gru"]:
        model = SequenceClassifier(SequenceClassifierConfig(vocab_size=20, cell=cell)).eval()
        x = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 10]])
        longer = torch.cat([x, torch.zeros(2, 4, dtype=torch.long)], dim=1)  # more padding
        torch.testing.assert_close(model(x), model(longer))
        torch.testing.assert_close(model(x[:1, :3]), model(x)[:1])  # padding in a batch changes nothing
    with pytest.raises(ValueError, match="token ids"):
        model(torch.randn(2, 5))


def test_sequence_classifier_learns_a_toy_task():
    # label: does token 3 occur in the sequence?
    g = torch.Generator().manual_seed(0)
    x = torch.randint(4, 12, (512, 10), generator=g)
    y = torch.randint(0, 2, (512,), generator=g)
    x[y == 1, torch.randint(0, 10, (int(y.sum()),), generator=g)] = 3
    x[:, 8:][torch.rand(512, 2, generator=g) < 0.5] = 0  # ragged ends
    model = SequenceClassifier(SequenceClassifierConfig(vocab_size=12, cell="gru", hidden=32, embed_dim=16))
    history = train.fit(model, data.TensorData(x, y), epochs=15, lr=1e-2, device="cpu", progress=False)
    assert all(math.isfinite(v) for v in history["train_loss"])
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]


def test_sequence_regressor_forecasts_a_series_and_reads_features():
    t = torch.arange(300.0)
    series = torch.sin(2 * math.pi * t / 11)
    windows = series.unfold(0, 13, 1)  # (N, 13)
    model = SequenceRegressor(SequenceRegressorConfig(hidden=16))
    assert model(windows[:4, :-1]).shape == (4,)
    history = train.fit(model, data.TensorData(windows[:, :-1], windows[:, -1]), epochs=20, lr=1e-2,
                        device="cpu", progress=False)
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]
    assert model(windows[:4, :-1, None]).shape == (4,)  # (B, T, 1) works too
    with pytest.raises(ValueError, match="expected sequences"):
        model(torch.randn(4, 12, 2))
    two = SequenceRegressor(SequenceRegressorConfig(input_size=2, cell="lstm"))
    assert two(torch.randn(3, 9, 2)).shape == (3,)
    with pytest.raises(ValueError, match=r"\(B, T, 2\), got \(3, 9\)"):
        two(torch.randn(3, 9))


def test_char_lm_shapes_loss_and_generation():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=5, embed_dim=8, hidden=16, num_layers=2))
    x = torch.randint(0, 5, (3, 12))
    assert model(x).shape == (3, 12, 5)
    # an untrained model is close to uniform: about ln 5 nats
    assert abs(model.loss((x, x)).item() - math.log(5)) < 0.3
    # learn "0 1 2 3 4 0 1 2 …": the loss falls far below ln 5 and greedy sampling continues the cycle
    ids = torch.arange(400) % 5
    windows = ids.unfold(0, 17, 4)
    history = train.fit(model, data.TensorData(windows[:, :-1], windows[:, 1:]), epochs=20, lr=1e-2, batch_size=8,
                        device="cpu", progress=False)
    assert history["train_loss"][-1] < 0.1
    out = model.generate(torch.tensor([0, 1, 2]), 7, temperature=0)
    assert out.tolist() == [3, 4, 0, 1, 2, 3, 4]
    g = torch.Generator().manual_seed(0)
    assert model.generate(torch.tensor([0]), 20, temperature=1.0, generator=g).shape == (20,)


def test_bag_of_words_sees_which_words_occur_not_their_order():
    model = BagOfWords(vocab_size=6)
    with torch.no_grad():
        model.linear.weight.copy_(torch.arange(12.0).view(2, 6))
        model.linear.bias.zero_()
    x = torch.tensor([[2, 3, 3, 0], [3, 2, 0, 0]])
    logits = model(x)
    torch.testing.assert_close(logits[0], logits[1])  # order and repeats do not matter
    torch.testing.assert_close(logits[0], torch.tensor([2.0 + 3.0, 8.0 + 9.0]))  # padding (id 0) excluded
