"""Tokenizers, vocabularies, padding, language-modelling windows, baselines and sampling."""
import math

import pytest
import torch

from dlcourse import text


def test_word_and_char_tokens():
    assert text.word_tokens("It's a GREAT film, isn't it?") == ["it's", "a", "great", "film", ",", "isn't", "it", "?"]
    assert text.char_tokens("Hi!") == ["H", "i", "!"]


def test_vocab_round_trip_and_unknowns():
    tokens = text.word_tokens("the cat sat on the mat . the end")
    vocab = text.Vocab(tokens)
    assert vocab.itos[:3] == ["<pad>", "<unk>", "the"]  # then by count, ties alphabetical
    ids = vocab.encode(tokens)
    assert vocab.decode(ids, sep=" ") == " ".join(tokens)
    assert vocab.encode(["dog"]) == [1] and "dog" not in vocab
    small = text.Vocab(tokens, min_count=2)
    assert small.itos == ["<pad>", "<unk>", "the"]
    chars = text.Vocab(text.char_tokens("hello world"), specials=False)
    assert chars.decode(chars.encode(list("hello world"))) == "hello world"
    with pytest.raises(KeyError, match="not in the vocabulary"):
        chars.encode(list("hi!"))
    with pytest.raises(ValueError, match="specials"):
        text.Vocab("abc", min_count=2, specials=False)
    with pytest.raises(AttributeError, match="no <pad>"):
        chars.pad_id


def test_pad_batch():
    x, lengths = text.pad_batch([[4, 5, 6], [7], []], pad_id=0)
    assert x.tolist() == [[4, 5, 6], [7, 0, 0], [0, 0, 0]] and lengths.tolist() == [3, 1, 1]
    x, lengths = text.pad_batch([[4, 5, 6], [7]], max_len=2)
    assert x.tolist() == [[4, 5], [7, 0]] and lengths.tolist() == [2, 1]


def test_lm_windows_shift_by_one():
    ids = torch.arange(10)
    w = text.lm_windows(ids, 4)
    assert w.x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] and w.y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert len(text.lm_windows(ids, 4, stride=1)) == 6
    with pytest.raises(ValueError, match="too short"):
        text.lm_windows(ids[:3], 4)


def test_ngram_baselines_against_hand_computed_values():
    train = torch.tensor([0, 1, 0, 1, 0, 1])
    # unigram with add-1: counts 3, 3, 0 become 4, 4, 1: p(0) = 4/9, p(2) = 1/9
    assert math.isclose(text.ngram_nats(train, torch.tensor([0, 2]), 3, 1), -(math.log(4 / 9) + math.log(1 / 9)) / 2)
    # bigram with add-1: after 0, "1" seen 3 times: p(1|0) = 4/6; after 1, "0" seen 2 times: p(0|1) = 3/5
    got = text.ngram_nats(train, torch.tensor([0, 1, 0]), 3, 2)
    assert math.isclose(got, -(math.log(4 / 6) + math.log(3 / 5)) / 2)
    assert math.isclose(text.bits(math.log(2)), 1.0)
    with pytest.raises(ValueError):
        text.ngram_nats(train, train, 3, 3)


def test_lm_nats_equals_the_mean_cross_entropy():
    class Uniform(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def loss(self, batch):
            x, y = batch
            return torch.nn.functional.cross_entropy(torch.zeros(y.numel(), 7), y.flatten()) + 0 * self.dummy

    assert math.isclose(text.lm_nats(Uniform(), torch.arange(100) % 7, 10), math.log(7), rel_tol=1e-6)


def test_char_corpus_round_trips_and_keeps_unseen_characters_unknown():
    vocab, ids = text.char_corpus("shakespeare")
    assert set(ids) == {"train", "val", "test"} and all(t.dtype == torch.long for t in ids.values())
    from dlcourse import data
    train_text = data.load("shakespeare", "train")
    assert vocab.decode(ids["train"][:5000]) == train_text[:5000]
    assert len(ids["val"]) == len(data.load("shakespeare", "val"))
    assert 60 < len(vocab) < 120 and vocab.itos[:2] == ["<pad>", "<unk>"]
    with pytest.raises(TypeError, match="not a text corpus"):
        text.char_corpus("sunspots")


def test_mask_tokens_follows_berts_80_10_10_rule():
    V, MASK, PAD_ID = 50, 1, 0
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(2, V, (400, 250), generator=g)
    ids[:, 200:] = PAD_ID  # padding is never chosen
    inputs, labels = text.mask_tokens(ids, MASK, V, special_ids=[PAD_ID], generator=g)
    chosen = labels != text.IGNORE
    real = ids != PAD_ID
    n_real = int(real.sum())  # 80,000 positions: standard error of the 15% share 0.0013
    assert not chosen[~real].any() and abs(chosen.sum().item() / n_real - 0.15) < 0.006
    assert torch.equal(labels[chosen], ids[chosen]) and torch.equal(inputs[~chosen], ids[~chosen])
    masked = (inputs == MASK) & chosen
    kept = (inputs == ids) & chosen
    replaced = chosen & ~masked & ~kept  # (a random draw can land on the original id: counted as kept)
    n = chosen.sum().item()  # ≈ 12,000 chosen: standard errors ≤ 0.004; tolerances 0.015
    assert abs(masked.sum().item() / n - 0.8) < 0.015
    assert abs(kept.sum().item() / n - (0.1 + 0.1 / (V - 2))) < 0.015
    assert abs(replaced.sum().item() / n - 0.1 * (1 - 1 / (V - 2))) < 0.015
    assert not ((inputs == PAD_ID) & real).any()  # random replacements never draw padding or [MASK]
    with pytest.raises(ValueError, match="prob"):
        text.mask_tokens(ids, MASK, V, prob=1.5)
