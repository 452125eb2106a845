"""Recurrent networks: the RNN, LSTM and GRU layers written step by step (parameter names and
layouts identical to PyTorch's, so weights copy across), and the models of chapters 4 and 5."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..utils import evaluating
from .base import Classifier
from .sampling import sample_next

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of `hidden` rows stacked in each weight matrix


def recurrent_layer(cell: str, input_size: int, hidden: int, num_layers: int = 1, **options) -> nn.Module:
    """PyTorch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, batch first, chosen by name."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell](input_size, hidden, num_layers, batch_first=True, **options)


class ScratchRecurrent(nn.Module):
    """A multi-layer recurrent layer run one time step at a time, batch first.

    Parameters are named and shaped as in ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``
    (``weight_ih_l0`` (G·U, D), ``weight_hh_l0`` (G·U, U), ``bias_ih_l0``, ``bias_hh_l0``, …), so
    ``scratch.load_state_dict(builtin.state_dict())`` makes the two compute the same function.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size: features per time step.
        hidden_size: units of the hidden state.
        num_layers: stacked layers; layer k > 0 reads the hidden states of layer k − 1.
        nonlinearity: ``"tanh"`` or ``"relu"`` (the vanilla RNN only).
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh") -> None:
        super().__init__()
        if kind not in GATES:
            raise ValueError(f"kind must be one of {sorted(GATES)}, got {kind!r}")
        if nonlinearity not in ("tanh", "relu") or (nonlinearity != "tanh" and kind != "rnn"):
            raise ValueError(f"nonlinearity {nonlinearity!r} is not available for {kind}")
        self.kind, self.hidden_size, self.num_layers = kind, hidden_size, num_layers
        self.activation = torch.tanh if nonlinearity == "tanh" else torch.relu
        rows = GATES[kind] * hidden_size
        bound = hidden_size ** -0.5  # PyTorch's initialisation: uniform on (−1/√U, 1/√U)
        for k in range(num_layers):
            fan_in = input_size if k == 0 else hidden_size
            for name, shape in [(f"weight_ih_l{k}", (rows, fan_in)), (f"weight_hh_l{k}", (rows, hidden_size)),
                                (f"bias_ih_l{k}", (rows,)), (f"bias_hh_l{k}", (rows,))]:
                self.register_parameter(name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def cell(self, x: Tensor, state: tuple[Tensor, ...], k: int) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
        """One time step of layer ``k``: input x (B, D), state (h,) or (h, c) each (B, U).

        Returns the new state and the gate activations (for pictures of the gates at work).
        """
        w_ih, w_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
        b_ih, b_hh = getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")
        h = state[0]
        if self.kind == "rnn":  # h' = act(W_ih x + b_ih + W_hh h + b_hh)
            return (self.activation(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh),), {}
        if self.kind == "lstm":
            c = state[1]
            i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1)  # PyTorch's order
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g  # forget part of the old memory, write the new candidate
            h = o * torch.tanh(c)  # o has its own weights; it does not read the new cell (o = σ(c) is wrong)
            return (h, c), {"input": i, "forget": f, "output": o, "cell": c}
        # GRU: r resets how much of h the candidate sees, z interpolates old and new
        xr, xz, xn = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
        hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return ((1 - z) * n + z * h,), {"reset": r, "update": z}

    def forward(self, x: Tensor, state: Tensor | tuple[Tensor, Tensor] | None = None,
                return_gates: bool = False):
        """Run over x (B, T, D); the state and the result follow PyTorch's conventions.

        Returns ``(outputs (B, T, U), h_n)`` with ``h_n`` (L, B, U), or ``(h_n, c_n)`` for the LSTM;
        with ``return_gates``, also a dict of gate activations of the last layer, each (B, T, U).
        """
        B, T, _ = x.shape
        L, U = self.num_layers, self.hidden_size
        if state is None:
            zeros = x.new_zeros(L, B, U)
            state = (zeros, zeros) if self.kind == "lstm" else zeros
        per_layer = [tuple(s[k] for s in state) if self.kind == "lstm" else (state[k],) for k in range(L)]
        outputs, gates = [], []
        for t in range(T):
            inp = x[:, t]
            for k in range(L):
                per_layer[k], g = self.cell(inp, per_layer[k], k)
                inp = per_layer[k][0]
            outputs.append(inp)
            gates.append(g)
        h_n = torch.stack([s[0] for s in per_layer])
        final = (h_n, torch.stack([s[1] for s in per_layer])) if self.kind == "lstm" else h_n
        result = (torch.stack(outputs, dim=1), final)
        if return_gates:
            return (*result, {name: torch.stack([g[name] for g in gates], dim=1) for name in gates[0]})
        return result


def lengths_of(x: Tensor, pad_id: int = 0) -> Tensor:
    """Lengths of right-padded id sequences x (B, T): the position after the last non-pad token."""
    not_pad = (x != pad_id).long()
    positions = torch.arange(1, x.shape[1] + 1, device=x.device)
    return (not_pad * positions).amax(dim=1).clamp(min=1)


def trim_padding(x: Tensor, pad_id: int = 0) -> Tensor:
    """Drop the last columns of right-padded ids x (B, T) that are padding in every row (at least one column
    stays): where padding is hidden from attention the outputs at the other positions do not change, and
    the work shrinks."""
    return x[:, :int(lengths_of(x, pad_id).max())]


@dataclass(frozen=True)
class SequenceClassifierConfig:
    """An embedding, a recurrent layer, and a linear layer on the last hidden state.

    Args:
        vocab_size: token ids are in [0, vocab_size); id ``pad_id`` is padding.
        embed_dim: size of each token's vector.
        hidden: recurrent units.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        num_classes: output logits.
        dropout: on the embeddings and on the final hidden state.
        pad_id: the padding id, skipped by packing.
    """

    vocab_size: int
    embed_dim: int = 64
    hidden: int = 64
    cell: str = "rnn"
    num_layers: int = 1
    num_classes: int = 2
    dropout: float = 0.0
    pad_id: int = 0


class SequenceClassifier(Classifier):
    """Classifies a padded batch of token ids (B, T) from the hidden state after each sequence's
    last real token: the sequences are *packed*, so padding never enters the recurrence."""

    def __init__(self, config: SequenceClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=config.pad_id)
        self.rnn = recurrent_layer(config.cell, config.embed_dim, config.hidden, config.num_layers)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(f"expected token ids (B, T) of dtype int64, got {tuple(x.shape)} {x.dtype}")
        lengths = lengths_of(x, self.config.pad_id)
        x = x[:, :int(lengths.max())]  # drop all-padding columns
        packed = pack_padded_sequence(self.dropout(self.embed(x)), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, state = self.rnn(packed)
        h_n = state[0] if isinstance(state, tuple) else state  # (L, B, U)
        return self.head(self.dropout(h_n[-1]))  # (B, K)


class BagOfWords(Classifier):
    """Logistic regression on which vocabulary words occur: the baseline for text classifiers.

    Word order is thrown away: ids (B, T) become a 0/1 vector over the vocabulary (B, V), padding
    excluded, and one linear layer maps it to logits.
    """

    def __init__(self, vocab_size: int, num_classes: int = 2, pad_id: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.pad_id = vocab_size, pad_id
        self.linear = nn.Linear(vocab_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        present = torch.zeros(x.shape[0], self.vocab_size, device=x.device)
        present.scatter_(1, x, 1.0)  # (B, V): 1 where the word occurs
        present[:, self.pad_id] = 0.0
        return self.linear(present)


@dataclass(frozen=True)
class SequenceRegressorConfig:
    """A recurrent layer reading a sequence and a linear layer predicting one number from its last state.

    Args:
        input_size: features per time step (1 for a plain series).
        hidden: recurrent units.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
    """

    input_size: int = 1
    hidden: int = 32
    cell: str = "rnn"
    num_layers: int = 1


class SequenceRegressor(nn.Module):
    """Sequence → one number, trained with the mean squared error: x (B, T, F), or (B, T) when
    ``input_size`` is 1 (a window of a series), → (B,). Chapter 4 forecasts the next value of a
    series with it; chapter 5 solves the adding problem."""

    def __init__(self, config: SequenceRegressorConfig = SequenceRegressorConfig()) -> None:
        super().__init__()
        self.config = config
        self.rnn = recurrent_layer(config.cell, config.input_size, config.hidden, config.num_layers)
        self.head = nn.Linear(config.hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2 and self.config.input_size == 1:
            x = x.unsqueeze(-1)  # a window of a univariate series
        if x.dim() != 3 or x.shape[-1] != self.config.input_size:
            raise ValueError(f"expected sequences (B, T, {self.config.input_size})"
                             + (" or windows (B, T)" if self.config.input_size == 1 else "")
                             + f", got {tuple(x.shape)}")
        out, _ = self.rnn(x)  # (B, T, U)
        return self.head(out[:, -1]).squeeze(-1)  # (B,)

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch
        return F.mse_loss(self(x), y)


@dataclass(frozen=True)
class CharLMConfig:
    """A character language model: embedding → recurrent layers → logits over the vocabulary.

    Args:
        vocab_size: number of distinct characters.
        embed_dim: size of each character's vector.
        hidden: recurrent units per layer.
        num_layers: stacked recurrent layers.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.
        dropout: between recurrent layers and before the output layer.
    """

    vocab_size: int
    embed_dim: int = 64
    hidden: int = 256
    num_layers: int = 2
    cell: str = "lstm"
    dropout: float = 0.0


class CharLM(nn.Module):
    """Predicts each next character: ids (B, T) → logits (B, T, V); loss is the mean cross-entropy
    in nats per character, the metric of :func:`dlcourse.text.lm_nats`."""

    def __init__(self, config: CharLMConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.rnn = recurrent_layer(config.cell, config.embed_dim, config.hidden, config.num_layers,
                                   dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def step(self, x: Tensor, state=None):
        """Logits (B, T, V) and the recurrent state after the last step, from ids x (B, T)."""
        out, state = self.rnn(self.embed(x), state)
        return self.head(self.dropout(out)), state

    def forward(self, x: Tensor) -> Tensor:
        return self.step(x)[0]

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch
        logits = self(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @torch.no_grad()
    def generate(self, prompt: Tensor, length: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> Tensor:
        """Continue the 1-D id tensor ``prompt`` by ``length`` sampled ids (returned without the prompt).

        The state is carried from step to step, so each new character costs one recurrent step.
        """
        device = next(self.parameters()).device
        out = []
        with evaluating(self):
            logits, state = self.step(prompt.view(1, -1).to(device))
            for _ in range(length):
                nxt = sample_next(logits[:, -1].cpu(), temperature, generator).to(device)  # (1,)
                out.append(int(nxt))
                logits, state = self.step(nxt.view(1, 1), state)
        return torch.tensor(out, dtype=torch.long)
