"""An encoder–decoder GRU, with or without attention (Bahdanau et al., 2015; Luong et al., 2015).

The encoder reads the source ids (B, S) into outputs (B, S, H) and a final state (1, B, H). The
decoder starts from that state and from the start id (:func:`dlcourse.data.bos_id`) and writes the
target one id at a time. Without attention, the final state is all the decoder ever learns about
the source: a fixed-size bottleneck. With attention, every decoder state h_t is a query over all
encoder outputs (additive scoring, Bahdanau et al., 2015, eq. 6); the context c_t it returns is
joined to h_t before the output layer, ``tanh(W [h_t; c_t])`` (Luong et al.'s "attentional hidden
state", without input feeding, so that training runs the decoder GRU over all steps at once).

Batches are ``(x, y)``: source ids (B, S) and target ids (B, T), both in ``0 … symbols − 1``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import AdditiveAttention, scaled_dot_product_attention


@dataclass(frozen=True)
class Seq2SeqConfig:
    """An encoder–decoder GRU for symbol sequences.

    Args:
        symbols: number of symbols; ids ``0 … symbols − 1``, and id ``symbols`` is the decoder's
            start token (``data.bos_id(symbols)``), so the embedding has ``symbols + 1`` rows.
        embed_dim: size of each symbol's vector (encoder and decoder have their own tables).
        hidden: GRU units of the decoder, and of the encoder's two directions together.
        bidirectional: the encoder reads the source both ways (hidden / 2 units each), as in
            Bahdanau et al. (2015), so each encoder output knows its distance from both ends.
        attention: let the decoder attend to every encoder output (else only the final state).
        score: ``"dot"``, scaled dot-product of a projected query with each encoder output (Luong
            et al.'s "general" score; cheap), or ``"additive"`` (Bahdanau et al.'s small network;
            it scores every query–key pair through ``attn_hidden`` units, several times slower).
        attn_hidden: units of the additive scoring network (default: ``hidden``).
    """

    symbols: int
    embed_dim: int = 32
    hidden: int = 128
    attention: bool = True
    bidirectional: bool = True
    score: str = "dot"
    attn_hidden: int | None = None

    @property
    def bos(self) -> int:
        return self.symbols


class Seq2Seq(nn.Module):
    """GRU encoder → GRU decoder (optionally with additive attention) → logits over the symbols."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.src_embed = nn.Embedding(c.symbols, c.embed_dim)
        self.tgt_embed = nn.Embedding(c.symbols + 1, c.embed_dim)  # + the start token
        if c.bidirectional and c.hidden % 2:
            raise ValueError(f"a bidirectional encoder splits hidden in two; got an odd hidden={c.hidden}")
        self.encoder = nn.GRU(c.embed_dim, c.hidden // 2 if c.bidirectional else c.hidden, batch_first=True,
                              bidirectional=c.bidirectional)
        self.decoder = nn.GRU(c.embed_dim, c.hidden, batch_first=True)
        if c.score not in ("dot", "additive"):
            raise ValueError(f"score must be 'dot' or 'additive', got {c.score!r}")
        if c.attention and c.score == "additive":
            self.attn = AdditiveAttention(c.hidden, c.hidden, c.attn_hidden or c.hidden)
        if c.attention and c.score == "dot":
            self.query = nn.Linear(c.hidden, c.hidden, bias=False)
        if c.attention:
            self.combine = nn.Linear(2 * c.hidden, c.hidden)
        self.out = nn.Linear(c.hidden, c.symbols)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Source ids (B, S) → encoder outputs (B, S, H) and final state (1, B, H)."""
        memory, state = self.encoder(self.src_embed(x))  # (B, S, H), (1 or 2, B, H or H/2)
        if self.config.bidirectional:
            state = torch.cat([state[0], state[1]], dim=-1)[None]  # (1, B, H): both directions' last states
        return memory, state

    def _readout(self, h: Tensor, memory: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Decoder states h (B, T, H) → logits (B, T, V) and attention weights (B, T, S) (None without)."""
        if not self.config.attention:
            return self.out(h), None  # (B, T, V)
        if self.config.score == "additive":
            context, weights = self.attn(h, memory, mask=mask)  # (B, T, H), (B, T, S)
        else:
            context, weights = scaled_dot_product_attention(self.query(h), memory, memory, mask)  # (B, T, H), (B, T, S)
        attended = torch.tanh(self.combine(torch.cat([h, context], dim=-1)))  # (B, T, H)
        return self.out(attended), weights  # (B, T, V), (B, T, S)

    def forward(self, x: Tensor, y: Tensor | None = None, src_mask: Tensor | None = None) -> Tensor:
        """Logits (B, T, V): teacher-forced on targets ``y`` (B, T) when given, else greedy for S steps.

        ``src_mask`` (B, 1, S), True at real source positions, hides padding from the attention.
        """
        if y is None:
            return self.decode(x, x.shape[1], src_mask=src_mask)[2]
        B, T = y.shape
        memory, state = self.encode(x)  # (B, S, H), (1, B, H)
        bos = torch.full((B, 1), self.config.bos, dtype=torch.long, device=y.device)
        inputs = torch.cat([bos, y[:, :-1]], dim=1)  # (B, T): the start token, then the target shifted right
        h, _ = self.decoder(self.tgt_embed(inputs), state)  # (B, T, H): all steps at once
        return self._readout(h, memory, src_mask)[0]  # (B, T, V)

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """Mean cross-entropy per target token, with teacher forcing."""
        x, y = batch
        logits = self(x, y)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @torch.no_grad()
    def decode(self, x: Tensor, steps: int, teacher: Tensor | None = None,
               src_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None, Tensor]:
        """Greedy decoding, one step at a time.

        Args:
            x: source ids (B, S).
            steps: how many target ids to write.
            teacher: target ids (B, steps) to feed back instead of the model's own predictions
                (teacher forcing); then the logits equal ``forward(x, teacher)``.
            src_mask: (B, 1, S), True at real source positions.

        Returns predictions (B, steps), attention weights (B, steps, S) (None without attention)
        and logits (B, steps, V).
        """
        B = x.shape[0]
        memory, state = self.encode(x)  # (B, S, H), (1, B, H)
        token = torch.full((B, 1), self.config.bos, dtype=torch.long, device=x.device)
        preds, weights, logits = [], [], []
        for t in range(steps):
            h, state = self.decoder(self.tgt_embed(token), state)  # (B, 1, H)
            step_logits, w = self._readout(h, memory, src_mask)  # (B, 1, V), (B, 1, S)
            logits.append(step_logits)
            weights.append(w)
            preds.append(step_logits.argmax(-1))  # (B, 1)
            token = preds[-1] if teacher is None else teacher[:, t:t + 1]
        attn = torch.cat(weights, dim=1) if self.config.attention else None  # (B, steps, S)
        return torch.cat(preds, dim=1), attn, torch.cat(logits, dim=1)

    def generate(self, x: Tensor, steps: int | None = None,
                 src_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Greedy predictions (B, steps) (default: as many as source ids) and attention weights (B, steps, S)."""
        preds, attn, _ = self.decode(x, x.shape[1] if steps is None else steps, src_mask=src_mask)
        return preds, attn


def token_accuracy(logits: Tensor, y: Tensor) -> float:
    """Share of target ids predicted right: logits (B, T, V) or ids (B, T), against y (B, T)."""
    preds = logits.argmax(-1) if logits.dim() == 3 else logits
    return (preds == y).float().mean().item()
