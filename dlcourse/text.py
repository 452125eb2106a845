"""Turning text into tensors and back: tokenizers, vocabularies, padding, and the character-level
language-modelling data, baselines and metric that chapters 5 and 8 share."""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

import torch
from torch import Tensor

from . import data
from .data import TensorData
from .train import evaluate

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def char_tokens(text: str) -> list[str]:
    """Characters are the tokens: ``"Hi!" → ["H", "i", "!"]``."""
    return list(text)


def word_tokens(text: str) -> list[str]:
    """Lower-cased words (keeping contractions such as ``don't``) and single punctuation marks."""
    return _WORD.findall(text.lower())


class Vocab:
    """A two-way map between tokens and integer ids.

    Id 0 is ``<pad>`` and id 1 is ``<unk>`` when ``specials`` is true (the default for words);
    a tokenizer whose every token is known, such as characters of a fixed text, may go without.

    Args:
        tokens: the training tokens; their counts decide which are kept and in which order.
        min_count: tokens seen fewer times map to ``<unk>`` (needs ``specials``).
        max_size: keep at most this many of the most frequent tokens (specials not counted).
        specials: reserve ids 0 and 1 for padding and unknown tokens.
    """

    def __init__(self, tokens: Iterable[str], min_count: int = 1, max_size: int | None = None,
                 specials: bool = True) -> None:
        counts = Counter(tokens)
        if not specials and (min_count > 1 or max_size is not None):
            raise ValueError("dropping rare tokens needs specials=True, so that they can map to <unk>")
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        kept = kept[:max_size] if max_size is not None else kept
        self.specials = specials
        self.itos: list[str] = ([PAD, UNK] if specials else []) + kept
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    @property
    def pad_id(self) -> int:
        if not self.specials:
            raise AttributeError("this vocabulary has no <pad> token (specials=False)")
        return 0

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown ones become ``<unk>`` (an error without specials)."""
        if self.specials:
            return [self.stoi.get(t, 1) for t in tokens]
        missing = sorted({t for t in tokens if t not in self.stoi})
        if missing:
            raise KeyError(f"tokens not in the vocabulary: {missing[:10]}")
        return [self.stoi[t] for t in tokens]

    def decode(self, ids: Iterable[int], sep: str = "") -> str:
        """The tokens of ``ids`` joined by ``sep`` (padding dropped)."""
        return sep.join(self.itos[i] for i in (int(i) for i in ids) if not (self.specials and i == 0))

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {self.itos[:8]}…)"


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = 0, max_len: int | None = None) -> tuple[Tensor, Tensor]:
    """Right-pad id sequences into one tensor (B, T) and return it with their lengths (B,).

    Sequences longer than ``max_len`` are cut; an empty sequence keeps one ``pad_id`` so that
    every row has length ≥ 1 (packing refuses length 0).
    """
    cut = [list(s)[:max_len] if max_len else list(s) for s in sequences]
    lengths = torch.tensor([max(len(s), 1) for s in cut])
    out = torch.full((len(cut), int(lengths.max()) if len(cut) else 0), pad_id, dtype=torch.long)
    for row, s in enumerate(cut):
        out[row, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out, lengths


def encode_texts(texts: Sequence[str], labels: Tensor, vocab: Vocab, max_len: int | None = None) -> TensorData:
    """Word-tokenize, encode and pad labelled texts into ``TensorData`` (x (N, T) ids, y (N,))."""
    x, _ = pad_batch([vocab.encode(word_tokens(t)) for t in texts], vocab.pad_id, max_len)
    return TensorData(x, labels)


# ------------------------------------------------------------------ character language modelling

def lm_windows(ids: Tensor, seq_len: int, stride: int | None = None) -> TensorData:
    """Cut a 1-D id sequence into windows: ``x`` (N, seq_len) and ``y`` = ``x`` shifted by one.

    Each target ``y[n, t]`` is the character after ``x[n, t]``, so every window trains
    ``seq_len`` next-character predictions. ``stride`` defaults to ``seq_len`` (no overlap).
    """
    if ids.dim() != 1:
        raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
    stride = stride or seq_len
    if len(ids) <= seq_len:
        raise ValueError(f"a sequence of {len(ids)} ids is too short for windows of {seq_len}")
    starts = torch.arange(0, len(ids) - seq_len, stride)
    index = starts[:, None] + torch.arange(seq_len + 1)[None, :]  # (N, seq_len + 1)
    chunks = ids[index]
    return TensorData(chunks[:, :-1].contiguous(), chunks[:, 1:].contiguous())


def ngram_nats(train_ids: Tensor, eval_ids: Tensor, vocab_size: int, n: int, alpha: float = 1.0) -> float:
    """Cross-entropy (nats per token) on ``eval_ids`` of an add-``alpha`` smoothed n-gram model.

    ``n = 1``: unigram (character frequencies); ``n = 2``: bigram (each character given the one
    before). The baselines a character language model must beat.
    """
    if n == 1:
        counts = torch.bincount(train_ids, minlength=vocab_size).double() + alpha
        logp = (counts / counts.sum()).log()
        return float(-logp[eval_ids].mean())
    if n == 2:
        pairs = torch.bincount(train_ids[:-1] * vocab_size + train_ids[1:], minlength=vocab_size ** 2)
        counts = pairs.view(vocab_size, vocab_size).double() + alpha
        logp = (counts / counts.sum(dim=1, keepdim=True)).log()
        return float(-logp[eval_ids[:-1], eval_ids[1:]].mean())
    raise ValueError(f"n must be 1 or 2, got {n}")


def bits(nats: float) -> float:
    """Nats per token in bits per token (divide by ln 2)."""
    return nats / math.log(2)


def lm_nats(model: torch.nn.Module, ids: Tensor, seq_len: int, batch_size: int = 256) -> float:
    """The course's language-model metric: mean cross-entropy, in nats per token, of predicting
    every token of ``ids`` after the first from at most ``seq_len`` tokens before it.

    The text is cut into non-overlapping windows (:func:`lm_windows`) and each window starts
    with no memory, so a recurrent model and a Transformer with a ``seq_len`` context are scored
    on exactly the same predictions. ``model.loss((x, y))`` must be the mean cross-entropy.
    """
    return evaluate(model, lm_windows(ids, seq_len), batch_size=batch_size)["loss"]


def char_corpus(name: str = "shakespeare") -> tuple[Vocab, dict[str, Tensor]]:
    """A character corpus ready for language modelling: the vocabulary of the *training* split's
    characters (with ``<pad>`` and ``<unk>``, so that a character never seen in training maps to
    ``<unk>``) and every split as a 1-D tensor of ids.

    Chapters 5 (LSTM) and 8 (GPT) both use it, with :func:`lm_nats` and :data:`LM_CONTEXT`, so
    their numbers compare.
    """
    dataset = data.get(name)
    texts = {split: dataset.load(split) for split in dataset.splits}
    if not all(isinstance(t, str) for t in texts.values()):
        raise TypeError(f"{name} is not a text corpus (its splits are not strings)")
    vocab = Vocab(char_tokens(texts["train"]))
    return vocab, {split: torch.tensor(vocab.encode(char_tokens(t))) for split, t in texts.items()}


LM_CONTEXT = 128  # characters of context per evaluation window, shared by the language-model chapters


# ------------------------------------------------------------------ masked language modelling

IGNORE = -100  # the label of a position that is not predicted (F.cross_entropy's ignore_index)


def mask_tokens(ids: Tensor, mask_id: int, vocab_size: int, special_ids: Sequence[int] = (), prob: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """BERT's masking rule (Devlin et al., 2019, §3.1): choose ``prob`` of the positions that are not
    special tokens; of those, replace 80% by ``mask_id``, 10% by a random token and leave 10% as they are.

    Returns ``(inputs, labels)``, both like ``ids`` (B, T): labels hold the original id at the chosen
    positions and :data:`IGNORE` elsewhere, so the loss is computed only where the model must guess.
    Random replacements are drawn from the non-special ids, so padding never appears in the middle of a text.
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    special = torch.zeros(vocab_size, dtype=torch.bool)
    special[list(special_ids)] = True
    special[mask_id] = True
    ordinary = (~special).nonzero().flatten()  # (V',): ids a random replacement may take
    if len(ordinary) == 0:
        raise ValueError("every id is special: nothing to replace with")
    draw = torch.rand(ids.shape, generator=generator)  # (B, T): one number decides each position's fate
    chosen = (draw < prob) & ~special[ids.cpu()]
    labels = torch.where(chosen, ids.cpu(), torch.full_like(ids.cpu(), IGNORE))
    inputs = ids.cpu().clone()
    as_mask = chosen & (draw < 0.8 * prob)  # 80% of the chosen
    as_random = chosen & (draw >= 0.8 * prob) & (draw < 0.9 * prob)  # 10%; the last 10% stay
    inputs[as_mask] = mask_id
    picks = torch.randint(0, len(ordinary), (int(as_random.sum()),), generator=generator)
    inputs[as_random] = ordinary[picks]
    return inputs.to(ids.device), labels.to(ids.device)


# ------------------------------------------------------------------ sub-word tokens (chapter 8)

WORDPIECE_SPECIALS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]")  # ids 0-4, as BERTConfig's defaults expect


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int = 2):
    """Train a lower-casing WordPiece tokenizer (Wu et al., 2016; BERT's) on ``texts`` with Hugging Face
    ``tokenizers``, offline. Ids 0-4 are ``[PAD] [CLS] [SEP] [MASK] [UNK]``; ``encode`` wraps a text as
    ``[CLS] … [SEP]``; a word it cannot spell from its pieces becomes ``[UNK]``; word-internal pieces
    start with ``##``. Returns the ``tokenizers.Tokenizer``.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers, decoders

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=list(WORDPIECE_SPECIALS), show_progress=False)
    tok.train_from_iterator(list(texts), trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    tok.decoder = decoders.WordPiece()
    return tok


def wordpiece_ids(tokenizer, texts: Sequence[str], max_len: int | None = None) -> Tensor:
    """Encode ``texts`` with a :func:`train_wordpiece` tokenizer into right-padded ids (N, T) (``[PAD]`` = 0);
    a text longer than ``max_len`` is cut and keeps its closing ``[SEP]``."""
    rows = [e.ids for e in tokenizer.encode_batch(list(texts))]
    if max_len is not None:
        rows = [r if len(r) <= max_len else r[:max_len - 1] + r[-1:] for r in rows]
    return pad_batch(rows, tokenizer.token_to_id("[PAD]"))[0]
