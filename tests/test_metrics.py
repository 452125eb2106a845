import pytest
import torch
from sklearn import metrics as skm

from dlcourse import metrics
from dlcourse.data import TensorData


@pytest.fixture
def preds_targets():
    g = torch.Generator().manual_seed(1)
    targets = torch.randint(0, 5, (500,), generator=g)
    preds = torch.where(torch.rand(500, generator=g) < 0.7, targets, torch.randint(0, 5, (500,), generator=g))
    preds[preds == 4] = 3  # class 4 is never predicted: precision is 0/0 there
    return preds, targets


def test_against_scikit_learn(preds_targets):
    preds, targets = preds_targets
    assert metrics.accuracy(preds, targets) == pytest.approx(skm.accuracy_score(targets, preds))
    cm = metrics.confusion_matrix(preds, targets, 5)
    assert (cm.numpy() == skm.confusion_matrix(targets, preds, labels=range(5))).all()
    p, r, f, s = skm.precision_recall_fscore_support(targets, preds, labels=range(5), zero_division=0)
    report = metrics.precision_recall_f1(preds, targets, 5)
    assert torch.allclose(report.precision, torch.tensor(p))
    assert torch.allclose(report.recall, torch.tensor(r))
    assert torch.allclose(report.f1, torch.tensor(f))
    assert (report.support.numpy() == s).all()
    assert report.macro_f1 == pytest.approx(skm.f1_score(targets, preds, average="macro", zero_division=0))


def test_accuracy_takes_logits():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert metrics.accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="predictions"):
        metrics.accuracy(torch.tensor([0, 1]), torch.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="integers"):
        metrics.accuracy(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="out of range"):
        metrics.confusion_matrix(torch.tensor([0, 7]), torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))


@pytest.mark.parametrize("stratify", [True, False])
def test_kfold_partitions(stratify):
    targets = torch.tensor([0] * 30 + [1] * 10 + [2] * 20)
    folds = metrics.kfold_indices(targets, 5, seed=0, stratify=stratify)
    val = torch.cat([v for _, v in folds])
    assert sorted(val.tolist()) == list(range(60))  # each example validated exactly once
    for tr, va in folds:
        assert set(tr.tolist()).isdisjoint(va.tolist()) and len(tr) + len(va) == 60
        if stratify:
            assert torch.bincount(targets[va], minlength=3).tolist() == [6, 2, 4]
    with pytest.raises(ValueError, match="k must be"):
        metrics.kfold_indices(targets, 1)


def test_cross_validate_scores_each_fold():
    data = TensorData(torch.arange(20.0)[:, None], torch.tensor([0, 1] * 10))
    seen = []

    def score(tr, va):
        seen.append(len(va))
        assert len(tr) + len(va) == 20
        return float(len(va))

    scores = metrics.cross_validate(score, data, k=4)
    assert scores.tolist() == [5.0] * 4 and seen == [5] * 4


def test_paired_verdict_words_follow_the_exact_test():
    a = torch.tensor([True] * 12 + [False] * 8)
    b = torch.tensor([False] * 12 + [True] * 8)
    p, sentence = metrics.paired_verdict("A", a, "B", b)
    assert p == metrics.mcnemar(a, b)[2] and "not significant" in sentence and "right on 12" in sentence
    a = torch.tensor([True] * 20 + [False] * 1)
    b = ~a
    p, sentence = metrics.paired_verdict("A", a, "B", b, unit="images")
    assert p < 0.05 and "A **beats** the B" in sentence and "images" in sentence  # 2·22/2^21 exactly
    p, sentence = metrics.paired_verdict("B", b, "A", a)
    assert "does worse than" in sentence
