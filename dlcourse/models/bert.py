"""BERT: a Transformer *encoder* pre-trained to fill in masked tokens (Devlin et al., 2019), built from the
course's blocks without the causal mask: token + position + segment embeddings and a LayerNorm on their sum,
post-norm blocks (as in the paper and Hugging Face's ``BertModel``), a masked-language-model (MLM) head tied
to the token embeddings, the pooled ``[CLS]`` vector and a classifier head for fine-tuning.

Next-sentence prediction is left out, as RoBERTa (Liu et al., 2019) found it does not help.

Shapes: B batch, T sequence length, C width (``n_embd``), V vocabulary, K classes.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import text
from ..utils import evaluating
from .attention import MultiHeadAttention
from .base import Classifier
from .gpt import GPT
from .rnn import trim_padding
from .transformer import FeedForward, TransformerConfig


@dataclass(frozen=True)
class BERTConfig:
    """A BERT's sizes and special ids (the names of GPTConfig; Hugging Face's ``BertConfig`` in brackets).

    Args:
        vocab_size: V (``vocab_size``).
        pad_id, cls_id, sep_id, mask_id: the ids of ``[PAD]``, ``[CLS]``, ``[SEP]`` and ``[MASK]``.
        block_size: positions with an embedding (``max_position_embeddings``).
        n_layer: blocks (``num_hidden_layers``).
        n_head: heads (``num_attention_heads``).
        n_embd: C (``hidden_size``), divisible by ``n_head``.
        d_ff: the feed-forward's hidden units (``intermediate_size``); None means 4·C.
        type_vocab_size: segments (``type_vocab_size``): sentence A and sentence B.
        dropout: on embeddings, attention weights and residual branches, while training.
        layer_norm_eps: every LayerNorm's epsilon (``layer_norm_eps``).
        mlm_prob: the share of tokens the MLM loss masks (15%, Devlin et al., 2019, §3.1).
        num_classes: K, for :class:`BERTClassifier`.
    """

    vocab_size: int
    pad_id: int = 0
    cls_id: int = 1
    sep_id: int = 2
    mask_id: int = 3
    block_size: int = 128
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    d_ff: int | None = None
    type_vocab_size: int = 2
    dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    mlm_prob: float = 0.15
    num_classes: int = 2

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")
        specials = (self.pad_id, self.cls_id, self.sep_id, self.mask_id)
        if len(set(specials)) != 4 or not all(0 <= i < self.vocab_size for i in specials):
            raise ValueError(f"pad, cls, sep and mask ids must be distinct ids below vocab_size, got {specials}")

    @property
    def special_ids(self) -> tuple[int, int, int, int]:
        return self.pad_id, self.cls_id, self.sep_id, self.mask_id

    def block_config(self) -> TransformerConfig:
        """The blocks' config: a GELU feed-forward, as in BERT."""
        return TransformerConfig(self.vocab_size, d_model=self.n_embd, n_head=self.n_head, n_layer=self.n_layer,
                                 d_ff=self.d_ff, max_len=self.block_size, dropout=self.dropout, activation="gelu")


class PostNormBlock(nn.Module):
    """The original (post-norm) encoder block (Vaswani et al., 2017; BERT): each residual sum is normalised,
    ``x = LN1(x + attention(x))``, then ``x = LN2(x + FFN(x))``. Chapter 7's :class:`~.transformer.Block` is
    the pre-norm variant; both use the same attention and feed-forward modules.

    Args:
        config: d_model, n_head, d_ff, dropout and activation are used.
        eps: the LayerNorms' epsilon.
    """

    def __init__(self, config: TransformerConfig, eps: float = 1e-5) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(config.d_model, config.n_head, dropout=config.dropout)
        self.drop1 = nn.Dropout(config.dropout)
        self.ln1 = nn.LayerNorm(config.d_model, eps=eps)
        self.mlp = FeedForward(config)
        self.drop2 = nn.Dropout(config.dropout)
        self.ln2 = nn.LayerNorm(config.d_model, eps=eps)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """x (B, T, C); mask "may attend", broadcasting to (B, h, T, T). No causal mask: every token sees all."""
        x = self.ln1(x + self.drop1(self.attn(x, mask=mask)))  # (B, T, C)
        return self.ln2(x + self.drop2(self.mlp(x)))  # (B, T, C)


class BERT(nn.Module):
    """ids (B, T) (and segments (B, T)) → MLM logits (B, T, V); ``loss`` is the masked-language-model loss.

    The input is ``[CLS] tokens [SEP] [PAD]…``; padding is hidden from attention. ``encode`` gives the
    contextual vectors (B, T, C), ``pooled`` the ``[CLS]`` vector through a dense layer and tanh (B, C).

    Args:
        config: the sizes and special ids.
    """

    def __init__(self, config: BERTConfig) -> None:
        super().__init__()
        self.config = config
        C, eps = config.n_embd, config.layer_norm_eps
        self.wte = nn.Embedding(config.vocab_size, C)  # tokens
        self.wpe = nn.Embedding(config.block_size, C)  # positions
        self.wse = nn.Embedding(config.type_vocab_size, C)  # segments
        self.ln_emb = nn.LayerNorm(C, eps=eps)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(PostNormBlock(config.block_config(), eps) for _ in range(config.n_layer))
        self.mlm_dense = nn.Linear(C, C)  # the MLM head: dense, GELU, LayerNorm, then the tied decoder
        self.mlm_act = nn.GELU()
        self.mlm_ln = nn.LayerNorm(C, eps=eps)
        self.mlm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.pool = nn.Linear(C, C)  # the pooler: dense + tanh on [CLS]
        self.apply(GPT._init_weights)  # N(0, 0.02) weights, zero biases, as BERT (and GPT-2) initialise

    def _check(self, ids: Tensor, segments: Tensor | None) -> None:
        if ids.dim() != 2 or ids.dtype != torch.long:
            raise ValueError(f"expected token ids (B, T) of dtype int64, got {tuple(ids.shape)} {ids.dtype}")
        if ids.shape[1] > self.config.block_size:
            raise ValueError(f"{ids.shape[1]} positions exceed block_size {self.config.block_size}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.config.vocab_size):
            raise ValueError(f"token ids must be in [0, {self.config.vocab_size}), "
                             f"got [{int(ids.min())}, {int(ids.max())}]")
        if segments is not None and segments.shape != ids.shape:
            raise ValueError(f"segments {tuple(segments.shape)} must have the shape of ids {tuple(ids.shape)}")

    def encode(self, ids: Tensor, segments: Tensor | None = None) -> Tensor:
        """Contextual vectors (B, T, C) of ids (B, T); segments (B, T) default to 0 (sentence A)."""
        self._check(ids, segments)
        B, T = ids.shape
        segments = torch.zeros_like(ids) if segments is None else segments
        pos = torch.arange(T, device=ids.device)  # (T,)
        h = self.drop(self.ln_emb(self.wte(ids) + self.wpe(pos) + self.wse(segments)))  # (B, T, C)
        keep = (ids != self.config.pad_id)[:, None, None, :]  # (B, 1, 1, T): no query looks at padding
        for block in self.blocks:
            h = block(h, mask=keep)  # (B, T, C)
        return h

    def mlm_logits(self, h: Tensor) -> Tensor:
        """The MLM head on vectors h (..., C) → logits (..., V), decoding with the token embeddings."""
        h = self.mlm_ln(self.mlm_act(self.mlm_dense(h)))  # (..., C)
        return F.linear(h, self.wte.weight, self.mlm_bias)  # (..., V): tied to the embeddings

    def forward(self, ids: Tensor, segments: Tensor | None = None) -> Tensor:
        """MLM logits (B, T, V) at every position."""
        return self.mlm_logits(self.encode(ids, segments))

    def pooled(self, ids: Tensor, segments: Tensor | None = None) -> Tensor:
        """tanh(W h_[CLS] + b) (B, C): the sentence vector BERT's classifiers read."""
        return torch.tanh(self.pool(self.encode(ids, segments)[:, 0]))

    def mask(self, ids: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """(inputs, labels) by BERT's 15% / 80-10-10 rule (:func:`dlcourse.text.mask_tokens`); specials never chosen."""
        c = self.config
        return text.mask_tokens(ids, c.mask_id, c.vocab_size, special_ids=c.special_ids, prob=c.mlm_prob,
                                generator=generator)

    def mlm_loss(self, inputs: Tensor, labels: Tensor) -> Tensor:
        """Mean cross-entropy over the positions whose label is not :data:`dlcourse.text.IGNORE`."""
        h = self.encode(inputs)  # (B, T, C)
        chosen = labels != text.IGNORE  # (B, T)
        logits = self.mlm_logits(h[chosen])  # (M, V): only where the model must guess (cheaper)
        return F.cross_entropy(logits, labels[chosen])

    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        """The MLM loss on ``batch[0]`` (B, T), masked afresh every time it is seen (dynamic masking, RoBERTa);
        any labels in the batch are ignored: pre-training needs none."""
        inputs, labels = self.mask(trim_padding(batch[0], self.config.pad_id))
        return self.mlm_loss(inputs, labels)

    @torch.no_grad()
    def mlm_accuracy(self, inputs: Tensor, labels: Tensor, batch_size: int = 512) -> float:
        """Share of the masked positions (labels ≠ IGNORE) whose original id is the arg-max guess."""
        right = total = 0
        device = next(self.parameters()).device
        with evaluating(self):
            for i in range(0, len(inputs), batch_size):
                x = trim_padding(inputs[i:i + batch_size], self.config.pad_id).to(device)
                y = labels[i:i + batch_size, :x.shape[1]].to(device)
                chosen = y != text.IGNORE
                guess = self.mlm_logits(self.encode(x)[chosen]).argmax(-1)  # (M,)
                right += int((guess == y[chosen]).sum())
                total += int(chosen.sum())
        return right / max(total, 1)


class BERTClassifier(Classifier):
    """Fine-tuning: a (pre-trained) :class:`BERT` and a linear layer on its sentence vector → logits (B, K).

    Args:
        bert: the encoder; its weights are trained along with the head unless ``freeze`` (a linear probe).
        pool: ``"cls"`` reads the pooled ``[CLS]`` vector (BERT's way), ``"mean"`` the mean of the
            contextual vectors over real tokens.
        freeze: keep the encoder fixed and train only the head (its dropout stays off too).
    """

    def __init__(self, bert: BERT, pool: str = "cls", freeze: bool = False) -> None:
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        self.bert, self.pool, self.freeze = bert, pool, freeze
        self.drop = nn.Dropout(bert.config.dropout)
        self.head = nn.Linear(bert.config.n_embd, bert.config.num_classes)
        if freeze:
            bert.requires_grad_(False)

    def train(self, mode: bool = True) -> BERTClassifier:
        super().train(mode)
        if self.freeze:
            self.bert.eval()  # a frozen encoder is a fixed feature extractor: no dropout
        return self

    def features(self, ids: Tensor) -> Tensor:
        """The sentence vector (B, C) the head reads."""
        if self.pool == "cls":
            return self.bert.pooled(ids)
        h = self.bert.encode(ids)  # (B, T, C)
        w = (ids != self.bert.config.pad_id).unsqueeze(-1).to(h.dtype)  # (B, T, 1)
        return (h * w).sum(1) / w.sum(1).clamp(min=1)  # (B, C)

    def forward(self, ids: Tensor) -> Tensor:
        ids = trim_padding(ids, self.bert.config.pad_id)  # same result, less work
        return self.head(self.drop(self.features(ids)))  # (B, K)
