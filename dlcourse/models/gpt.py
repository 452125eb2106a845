"""GPT: a decoder-only Transformer trained to predict the next token (Radford et al., 2018, 2019), in the
shape of nanoGPT's ``model.py``: token and learned position embeddings, pre-norm blocks with *causal*
self-attention (chapter 7's :class:`~dlcourse.models.transformer.Block`), a final LayerNorm and a head
tied to the token embedding; GPT-2's initialisation; generation with a KV cache.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..utils import evaluating
from .attention import KVCache
from .sampling import sample_next
from .transformer import Block, TransformerConfig


@dataclass(frozen=True)
class GPTConfig:
    """The GPT's sizes (nanoGPT's names).

    Args:
        vocab_size: V, token ids are in [0, V).
        block_size: the longest context the model reads (positions with an embedding).
        n_layer: blocks.
        n_head: h, attention heads per block.
        n_embd: C, the width of every token's vector (divisible by h).
        dropout: on embeddings, attention weights and residual branches, while training.
    """

    vocab_size: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")

    def block_config(self) -> TransformerConfig:
        """The blocks' config: GELU feed-forward four times as wide, as in GPT-2."""
        return TransformerConfig(self.vocab_size, d_model=self.n_embd, n_head=self.n_head, n_layer=self.n_layer,
                                 max_len=self.block_size, dropout=self.dropout, activation="gelu")


def gpt_parameter_count(config: GPTConfig) -> int:
    """V·C (embedding, tied to the head) + block_size·C (positions) + L·(12C² + 13C) (blocks) + 2C (last LayerNorm)."""
    C = config.n_embd
    return config.vocab_size * C + config.block_size * C + config.n_layer * (12 * C * C + 13 * C) + 2 * C


def gpt_flops_per_token(config: GPTConfig, context: int | None = None) -> int:
    """Forward-pass multiply-adds ×2 per token (Kaplan et al., 2020, table 1): 2·N for the weight matrices
    (N = L·12C², the blocks' matrices, plus V·C for the head) and 2·L·T·C for the attention scores and the
    weighted sum over a context of T tokens (``context``, default block_size: the causal mask halves the
    useful part, which a dense kernel computes anyway). Training costs about three times this
    (forward, and a backward pass twice as expensive)."""
    C, L = config.n_embd, config.n_layer
    T = config.block_size if context is None else context
    return 2 * (L * 12 * C * C + config.vocab_size * C) + 2 * L * T * C


class GPT(nn.Module):
    """ids (B, T) → next-token logits (B, T, V); ``loss`` is the mean cross-entropy in nats per token.

    Args:
        config: the sizes.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config.block_config()) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying (Press & Wolf, 2017): one matrix, read and written
        self.apply(self._init_weights)
        for block in self.blocks:  # GPT-2: residual projections scaled by 1/√(2L), one per residual branch
            for w in (block.attn.out_proj.weight, block.mlp.linear2.weight):
                nn.init.normal_(w, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if hasattr(module, "in_proj_weight"):  # the attention's fused q, k, v projection
            nn.init.normal_(module.in_proj_weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.in_proj_bias)

    def forward(self, idx: Tensor, caches: list[KVCache] | None = None) -> Tensor:
        """Logits (B, T, V) for ids (B, T); with ``caches`` (one per block), idx continues the cached positions."""
        B, T = idx.shape
        past = len(caches[0]) if caches else 0
        if past + T > self.config.block_size:
            raise ValueError(f"{past + T} positions exceed block_size {self.config.block_size}")
        pos = torch.arange(past, past + T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, is_causal=True, cache=caches[i] if caches else None)  # (B, T, C)
        x = self.ln_f(x)  # (B, T, C)
        return self.lm_head(x)  # (B, T, V)

    @torch.no_grad()
    def attention_maps(self, idx: Tensor) -> list[Tensor]:
        """Every block's causal attention weights for ids (B, T): a list of L tensors (B, h, T, T), row i
        the weights with which position i reads positions 0 … i (in eval mode: no dropout)."""
        B, T = idx.shape
        maps = []
        with evaluating(self):
            x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))  # (B, T, C)
            for block in self.blocks:
                maps.append(block.attn(block.ln1(x), is_causal=True, return_weights=True)[1])  # (B, h, T, T)
                x = block(x, is_causal=True)  # (B, T, C)
        return maps

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        """Mean cross-entropy of predicting y (B, T), the ids x (B, T) shifted by one."""
        x, y = batch
        logits = self(x)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @torch.no_grad()
    def generate(self, prompt: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None, use_cache: bool = True) -> Tensor:
        """Continue the 1-D id tensor ``prompt`` by ``max_new_tokens`` sampled ids (returned without the prompt).

        With ``use_cache`` each new token costs one position's work (its keys and values are kept);
        without, the whole context is recomputed every step. Both give the same tokens. When the
        context outgrows ``block_size``, the oldest tokens are dropped (and the cache rebuilt).
        """
        device = next(self.parameters()).device
        context = prompt.view(1, -1).to(device)  # (1, T)
        out: list[int] = []
        caches: list[KVCache] | None = None
        fresh = context[:, -self.config.block_size:]  # what the model reads next
        with evaluating(self):
            for _ in range(max_new_tokens):
                if use_cache:
                    if caches is None or len(caches[0]) + fresh.shape[1] > self.config.block_size:
                        caches = [KVCache() for _ in self.blocks]
                        fresh = context[:, -self.config.block_size:]  # rebuild from the last block_size ids
                    logits = self(fresh, caches)[:, -1]  # (1, V)
                else:
                    logits = self(context[:, -self.config.block_size:])[:, -1]  # (1, V)
                nxt = sample_next(logits.cpu(), temperature, generator, top_k).to(device)  # (1,)
                out.append(int(nxt))
                context = torch.cat([context, nxt.view(1, 1)], dim=1)  # (1, T + 1)
                fresh = nxt.view(1, 1)
        return torch.tensor(out, dtype=torch.long)
