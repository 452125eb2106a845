"""The Transformer (Vaswani et al., 2017), pre-norm (Xiong et al., 2020): positional encodings, the encoder
block, the decoder block with cross-attention, an encoder classifier and an encoder–decoder seq2seq model.

Shapes: B batch, T (target or only) sequence length, S source length, C model width (``d_model``),
h heads, V vocabulary. Masks are boolean and mean "may attend" (see :mod:`.attention`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..utils import evaluating
from .attention import KVCache, MultiHeadAttention
from .base import Classifier
from .rnn import trim_padding

POSITIONAL = ("sinusoidal", "learned", "none")
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


@dataclass(frozen=True)
class TransformerConfig:
    """One config for every Transformer of the course (fields a model does not use are ignored).

    Args:
        vocab_size: token ids are in [0, vocab_size) (for seq2seq: source and target alike).
        d_model: C, the width of every token's vector.
        n_head: h, attention heads per block (C must be divisible by h).
        n_layer: encoder blocks.
        n_dec_layer: decoder blocks (seq2seq); None means ``n_layer``.
        d_ff: hidden units of the position-wise feed-forward network; None means 4·C.
        max_len: the longest sequence the positional encoding covers.
        dropout: on embeddings, attention weights, and each residual branch (training only).
        positional: ``"sinusoidal"`` (Vaswani et al., 2017, §3.5), ``"learned"`` or ``"none"``.
        activation: ``"relu"`` (the paper, PyTorch's default) or ``"gelu"`` (GPT, BERT).
        num_classes: logits of the classifier.
        pad_id: the padding id, hidden from attention and from the loss; None: no padding.
        bos_id: the decoder's start token (seq2seq).
    """

    vocab_size: int
    d_model: int = 64
    n_head: int = 4
    n_layer: int = 2
    n_dec_layer: int | None = None
    d_ff: int | None = None
    max_len: int = 512
    dropout: float = 0.0
    positional: str = "sinusoidal"
    activation: str = "relu"
    num_classes: int = 2
    pad_id: int | None = None
    bos_id: int | None = None

    def __post_init__(self) -> None:
        if self.d_model % self.n_head:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_head {self.n_head}")
        if self.positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {POSITIONAL}, got {self.positional!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")

    @property
    def ff_dim(self) -> int:
        return 4 * self.d_model if self.d_ff is None else self.d_ff


def sinusoidal_features(positions: Tensor, d_model: int, base: float = 10000.0) -> Tensor:
    """Sinusoids of any positions (N,) → (N, C): column 2i is sin(p / base^(2i/C)), column 2i + 1 cos(same)
    (Vaswani et al., 2017, §3.5). Positions may be real numbers, e.g. a diffusion model's timesteps."""
    pos = positions.to(torch.float32)[:, None]  # (N, 1)
    freq = torch.exp(-math.log(base) * torch.arange(0, d_model, 2, dtype=torch.float32, device=positions.device)
                     / d_model)  # (C/2,)
    table = torch.zeros(len(positions), d_model, device=positions.device)
    table[:, 0::2] = torch.sin(pos * freq)  # (N, C/2)
    table[:, 1::2] = torch.cos(pos * freq)[:, :d_model // 2]  # (N, C/2): an odd C drops the last cosine
    return table


def sinusoidal_table(max_len: int, d_model: int) -> Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/C)), PE[pos, 2i+1] = cos(same) (Vaswani et al., 2017, §3.5) → (max_len, C)."""
    return sinusoidal_features(torch.arange(max_len), d_model)


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal encoding of each position to x (B, T, C) (Vaswani et al., 2017, §3.5).

    Args:
        d_model: C.
        max_len: the longest sequence it can encode.
    """

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_table(max_len, d_model), persistent=False)  # (L, C)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        if T > len(self.pe):
            raise ValueError(f"sequence of length {T} is longer than max_len {len(self.pe)}")
        return x + self.pe[:T]  # (B, T, C)


class LearnedPositionalEncoding(nn.Module):
    """Adds a learned vector per position (as BERT and GPT do) to x (B, T, C).

    Args:
        d_model: C.
        max_len: positions with a vector; a longer sequence is an error.
    """

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * 0.02)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        if T > len(self.weight):
            raise ValueError(f"sequence of length {T} is longer than max_len {len(self.weight)}")
        return x + self.weight[:T]  # (B, T, C)


def positional_encoding(config: TransformerConfig) -> nn.Module:
    """The config's positional encoding: sinusoidal, learned, or none (an identity)."""
    if config.positional == "sinusoidal":
        return PositionalEncoding(config.d_model, config.max_len)
    if config.positional == "learned":
        return LearnedPositionalEncoding(config.d_model, config.max_len)
    return nn.Identity()


class FeedForward(nn.Module):
    """The position-wise feed-forward network, applied to each token alone (Vaswani et al., 2017, eq. 2)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.linear1 = nn.Linear(config.d_model, config.ff_dim)
        self.act = ACTIVATIONS[config.activation]()
        self.dropout = nn.Dropout(config.dropout)
        self.linear2 = nn.Linear(config.ff_dim, config.d_model)

    def forward(self, x: Tensor) -> Tensor:
        x = self.linear1(x)  # (B, T, d_ff)
        x = self.act(x)
        x = self.dropout(x)
        return self.linear2(x)  # (B, T, C)


class Block(nn.Module):
    """A pre-norm Transformer encoder block: self-attention and feed-forward, each inside a residual,
    each reading a LayerNorm of its input (Xiong et al., 2020). Chapter 8's GPT and BERT reuse it.

    Equals ``nn.TransformerEncoderLayer(norm_first=True, batch_first=True)`` with the same weights
    (see :func:`load_encoder_layer`).

    Args:
        config: d_model, n_head, d_ff, dropout and activation are used.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = MultiHeadAttention(config.d_model, config.n_head, dropout=config.dropout)
        self.drop1 = nn.Dropout(config.dropout)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = FeedForward(config)
        self.drop2 = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, mask: Tensor | None = None, is_causal: bool = False,
                cache: KVCache | None = None) -> Tensor:
        """x (B, T, C); mask "may attend", broadcasting to (B, h, T, T); is_causal hides the future;
        ``cache`` keeps the keys and values of earlier positions (generation, see :class:`.attention.KVCache`)."""
        B, T, C = x.shape
        x = x + self.drop1(self.attn(self.ln1(x), mask=mask, is_causal=is_causal, cache=cache))  # (B, T, C)
        x = x + self.drop2(self.mlp(self.ln2(x)))  # (B, T, C)
        return x


class DecoderBlock(nn.Module):
    """A pre-norm decoder block: causal self-attention, cross-attention to the encoder's output
    (the "memory"), feed-forward; each in a residual (Vaswani et al., 2017, §3.1).

    Args:
        config: as for :class:`Block`.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = MultiHeadAttention(config.d_model, config.n_head, dropout=config.dropout)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.cross = MultiHeadAttention(config.d_model, config.n_head, dropout=config.dropout)
        self.ln3 = nn.LayerNorm(config.d_model)
        self.mlp = FeedForward(config)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, memory: Tensor, memory_mask: Tensor | None = None,
                return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """x (B, T, C) the target so far, memory (B, S, C); memory_mask broadcasts to (B, h, T, S).

        With ``return_weights``, also the cross-attention weights (B, h, T, S)."""
        B, T, C = x.shape
        x = x + self.drop(self.attn(self.ln1(x), is_causal=True))  # (B, T, C): never the future
        crossed = self.cross(self.ln2(x), context=memory, mask=memory_mask, return_weights=return_weights)
        weights = crossed[1] if return_weights else None  # (B, h, T, S)
        crossed = crossed[0] if return_weights else crossed  # (B, T, C)
        x = x + self.drop(crossed)  # (B, T, C)
        x = x + self.drop(self.mlp(self.ln3(x)))  # (B, T, C)
        return (x, weights) if return_weights else x


def load_encoder_layer(block: Block, layer: nn.TransformerEncoderLayer) -> Block:
    """Copy the weights of PyTorch's ``nn.TransformerEncoderLayer`` into ``block`` (names differ, shapes agree)."""
    rename = {"self_attn.": "attn.", "linear1.": "mlp.linear1.", "linear2.": "mlp.linear2.",
              "norm1.": "ln1.", "norm2.": "ln2."}
    state = {}
    for name, value in layer.state_dict().items():
        prefix = next(p for p in rename if name.startswith(p))
        state[rename[prefix] + name[len(prefix):]] = value
    block.load_state_dict(state)
    return block


class TransformerClassifier(Classifier):
    """A Transformer encoder that classifies a padded batch of token ids (B, T): embeddings + positions,
    ``n_layer`` blocks with the padding hidden from attention, a final LayerNorm, the mean over real
    tokens, a linear layer."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.pos = positional_encoding(config)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(f"expected token ids (B, T) of dtype int64, got {tuple(x.shape)} {x.dtype}")
        pad = self.config.pad_id
        if pad is not None:  # drop the columns that are padding in every row: same result, less work
            x = trim_padding(x, pad)  # (B, T)
        B, T = x.shape
        keep = torch.ones_like(x, dtype=torch.bool) if pad is None else x != pad  # (B, T)
        h = self.embed(x)  # (B, T, C)
        h = self.pos(h)  # (B, T, C)
        h = self.drop(h)
        for block in self.blocks:
            h = block(h, mask=keep[:, None, None, :])  # (B, T, C): no query looks at padding
        h = self.ln_f(h)  # (B, T, C)
        w = keep.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
        pooled = (h * w).sum(1) / w.sum(1).clamp(min=1)  # (B, C): the mean over real tokens
        return self.head(pooled)  # (B, K)


class Seq2SeqTransformer(nn.Module):
    """The encoder–decoder Transformer (Vaswani et al., 2017, fig. 1), pre-norm: source ids (B, S) and
    target ids (B, T) → logits (B, T, V) for each next target token, trained with teacher forcing."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        if config.bos_id is None:
            raise ValueError("a seq2seq model needs config.bos_id, the decoder's start token")
        self.config = config
        self.src_embed = nn.Embedding(config.vocab_size, config.d_model)
        self.tgt_embed = nn.Embedding(config.vocab_size, config.d_model)
        self.pos = positional_encoding(config)
        self.drop = nn.Dropout(config.dropout)
        self.encoder = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_enc = nn.LayerNorm(config.d_model)
        n_dec = config.n_layer if config.n_dec_layer is None else config.n_dec_layer
        self.decoder = nn.ModuleList(DecoderBlock(config) for _ in range(n_dec))
        self.ln_dec = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size)

    def source_mask(self, src: Tensor) -> Tensor | None:
        """(B, 1, 1, S) True at real source tokens, or None without padding."""
        return None if self.config.pad_id is None else (src != self.config.pad_id)[:, None, None, :]

    def encode(self, src: Tensor) -> Tensor:
        """Source ids (B, S) → memory (B, S, C)."""
        mask = self.source_mask(src)
        h = self.src_embed(src)  # (B, S, C)
        h = self.pos(h)  # (B, S, C)
        h = self.drop(h)
        for block in self.encoder:
            h = block(h, mask=mask)  # (B, S, C)
        return self.ln_enc(h)  # (B, S, C)

    def decode(self, tgt: Tensor, memory: Tensor, memory_mask: Tensor | None = None,
               return_weights: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Target ids so far (B, T) and memory (B, S, C) → logits (B, T, V) (and each block's cross-attention weights)."""
        h = self.tgt_embed(tgt)  # (B, T, C)
        h = self.pos(h)  # (B, T, C)
        h = self.drop(h)
        weights = []
        for block in self.decoder:
            h = block(h, memory, memory_mask, return_weights=return_weights)
            if return_weights:
                h, w = h  # (B, T, C), (B, h, T, S)
                weights.append(w)
        logits = self.head(self.ln_dec(h))  # (B, T, V)
        return (logits, weights) if return_weights else logits

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        """Logits (B, T, V): position t predicts target token t + 1 from tgt[:, :t + 1]."""
        return self.decode(tgt, self.encode(src), self.source_mask(src))

    def shift_right(self, y: Tensor) -> Tensor:
        """The decoder's input for targets y (B, T): the start token, then y without its last token."""
        bos = y.new_full((y.shape[0], 1), self.config.bos_id)  # (B, 1)
        return torch.cat([bos, y[:, :-1]], dim=1)  # (B, T)

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """Mean cross-entropy of every target token, teacher-forced (padding ignored)."""
        src, y = batch
        logits = self(src, self.shift_right(y))  # (B, T, V)
        ignore = -100 if self.config.pad_id is None else self.config.pad_id
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=ignore)

    @torch.no_grad()
    def generate(self, src: Tensor, length: int | None = None) -> Tensor:
        """Greedy decoding: from the start token, append the most likely next token ``length``
        times (default: the source's length) → ids (B, length). Runs in eval mode."""
        with evaluating(self):
            length = src.shape[1] if length is None else length
            memory, mask = self.encode(src), self.source_mask(src)  # (B, S, C): encoded once
            out = src.new_full((src.shape[0], 1), self.config.bos_id)  # (B, 1)
            for _ in range(length):
                logits = self.decode(out, memory, mask)  # (B, t, V)
                nxt = logits[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
                out = torch.cat([out, nxt], dim=1)  # (B, t + 1)
            return out[:, 1:]  # (B, length)
