import math

import pytest
import torch
from torch import nn

from dlcourse import metrics, train
from dlcourse.data import TensorData
from dlcourse.models import MLP, MLPConfig


def blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) * 0.5 + torch.stack([y * 2.0 - 1, y * 2.0 - 1], dim=1)
    return TensorData(x, y)


def small_model():
    torch.manual_seed(0)
    return MLP(MLPConfig(in_features=2, hidden=(8,), num_classes=2))


def test_fit_learns_and_records_history():
    data = blobs()
    history = train.fit(small_model(), data, epochs=5, batch_size=32, lr=0.05, val_data=data,
                        metrics={"acc": metrics.accuracy}, progress=False, device="cpu")
    assert history.keys() == ["epoch", "train_loss", "lr", "val_loss", "val_acc", "seconds"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history.final["val_acc"] > 0.9
    assert len(history.step_loss) == 5 * math.ceil(200 / 32)
    with pytest.raises(KeyError, match="columns are"):
        history["nope"]


def test_fit_is_reproducible():
    runs = [train.fit(small_model(), blobs(), epochs=2, progress=False, device="cpu").step_loss for _ in range(2)]
    assert runs[0] == runs[1]


def test_schedules():
    lrs = {s: train.fit(small_model(), blobs(), epochs=10, lr=0.1, schedule=s, progress=False, device="cpu")["lr"]
           for s in ("constant", "onecycle", "cosine")}
    assert lrs["constant"] == [0.1] * 10
    assert max(lrs["onecycle"]) > 0.09 and lrs["onecycle"][-1] < 1e-4  # warms up, then anneals to ~0
    assert lrs["onecycle"][0] < lrs["onecycle"][1]
    assert all(a > b for a, b in zip(lrs["cosine"], lrs["cosine"][1:])) and lrs["cosine"][-1] < 0.01 * 0.1


def test_gradient_clipping_bounds_the_norm():
    model = small_model()
    norms = []

    class Spy(torch.optim.SGD):
        def step(self, closure=None):
            norms.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item())
            return super().step(closure)

    train.fit(model, blobs(), epochs=1, optimizer=lambda p: Spy(p, lr=1.0), clip_grad_norm=1e-3,
              progress=False, device="cpu")
    assert max(norms) <= 1e-3 * 1.0001


def test_early_stopping_stops_and_restores_best():
    data = blobs()
    model = small_model()
    stopper = train.EarlyStopping("val_loss", patience=2)
    h = train.fit(model, data, epochs=200, lr=0.05, val_data=blobs(seed=1), callbacks=[stopper],
                  progress=False, device="cpu")
    assert h.stopped_early and len(h.epochs) < 200
    assert len(h.epochs) - 1 - stopper.best_epoch == 2
    assert train.evaluate(model, blobs(seed=1))["loss"] == pytest.approx(min(h["val_loss"]))


def test_divergence_is_reported():
    with pytest.raises(FloatingPointError, match="learning rate"):
        train.fit(small_model(), blobs(), epochs=3, lr=1e12, optimizer="sgd", progress=False, device="cpu")


def test_bad_arguments():
    with pytest.raises(TypeError, match="loss"):
        train.fit(torch.nn.Linear(2, 2), blobs(), epochs=1, progress=False)
    with pytest.raises(ValueError, match="schedule"):
        train.fit(small_model(), blobs(), epochs=1, schedule="warp", progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        train.fit(small_model(), blobs(), epochs=1, optimizer="lion", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(small_model(), blobs(), epochs=0, progress=False)


def test_channels_last_changes_the_layout_not_the_arithmetic():
    from dlcourse.models.cnn import CNNConfig, SmallCNN

    g = torch.Generator().manual_seed(0)
    images = TensorData(torch.randn(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g))
    runs = {}
    for layout in (False, True):
        torch.manual_seed(0)
        model = SmallCNN(CNNConfig())
        history = train.fit(model, images, epochs=1, batch_size=16, lr=0.05, optimizer="sgd", seed=0,
                            device="cpu", progress=False, channels_last=layout)
        conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d) and m.in_channels > 1)  # 1 channel: both layouts
        assert conv.weight.is_contiguous(memory_format=torch.channels_last) == layout
        runs[layout] = (history.step_loss, model.state_dict())
    # the same sums in another order: float32 rounding (relative ~1e-7 per operation) after 4 SGD steps
    assert runs[True][0] == pytest.approx(runs[False][0], rel=1e-4)
    for name, value in runs[False][1].items():
        torch.testing.assert_close(runs[True][1][name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_fit_on_cpu_flushes_denormals():
    model = torch.nn.Linear(2, 1)
    model.loss = lambda batch: ((model(batch[0]).squeeze(-1) - batch[1]) ** 2).mean()
    train.fit(model, TensorData(torch.randn(8, 2), torch.randn(8)), epochs=1, device="cpu", progress=False)
    assert torch.tensor(1e-40) * 1 == 0  # 1e-40 is denormal in float32: flushed to zero


def test_batch_order_follows_the_global_seed_unless_given():
    """fit's default seed comes from torch's global generator: seed_everything(s) decides the whole run."""
    import dlcourse

    def run(global_seed, seed=None):
        model = small_model()  # the same initial weights every time
        dlcourse.seed_everything(global_seed)
        train.fit(model, blobs(), epochs=1, batch_size=16, lr=0.1, progress=False, seed=seed)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(run(1), run(1))  # same seed, same run (CPU kernels are deterministic)
    assert not torch.equal(run(1), run(2))  # another global seed shuffles the batches differently
    assert torch.equal(run(1, seed=5), run(2, seed=5))  # an explicit seed fixes the batch order


class _Chase(nn.Module):
    """Two parts trained in turn: ``a`` moves to 1, then ``b`` moves to where ``a`` is now."""

    def __init__(self, shared: bool = False):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(()))
        self.b = self.a if shared else nn.Parameter(torch.zeros(()))

    def parts(self):
        return {"a": [self.a], "b": [self.b]}

    def loss(self, batch, part):
        return (self.a - 1) ** 2 if part == "a" else (self.b - self.a) ** 2


def test_fit_steps_each_part_in_turn_with_its_own_optimizer():
    one = TensorData(torch.zeros(1, 1), torch.zeros(1))
    model = _Chase()
    # sgd on (a − 1)²: a ← 0 − 0.5·2(0 − 1) = 1; then b's loss sees the *updated* a: b ← 0 − lr_b·2(0 − 1)
    history = train.fit(model, one, epochs=1, batch_size=1, lr={"a": 0.5, "b": 0.25}, optimizer="sgd",
                        progress=False, device="cpu")
    assert model.a.item() == 1.0 and model.b.item() == 0.5  # exact: binary fractions
    assert history.part_loss == {"a": [1.0], "b": [1.0]} and history.step_loss == []
    assert set(history.keys()) >= {"train_loss_a", "train_loss_b"}
    with pytest.raises(ValueError, match="no entry for part 'b'"):
        train.fit(_Chase(), one, epochs=1, lr={"a": 0.5}, progress=False, device="cpu")
    with pytest.raises(ValueError, match="shares parameters"):
        train.fit(_Chase(shared=True), one, epochs=1, progress=False, device="cpu")


def test_evaluate_every_records_a_validation_curve_within_an_epoch():
    model, d = small_model(), blobs()
    every = train.EvaluateEvery(3, d[:50], metrics={"acc": metrics.accuracy})
    history = train.fit(model, d, epochs=1, batch_size=20, progress=False, device="cpu", callbacks=[every])
    steps = math.ceil(len(d) / 20)
    expected = list(range(3, steps + 1, 3)) + ([steps] if steps % 3 else [])
    assert [r["step"] for r in history.steps] == expected
    assert set(history.steps[0]) == {"step", "val_loss", "val_acc"}
    assert history.steps[-1]["val_loss"] == pytest.approx(train.evaluate(model, d[:50])["loss"])


def test_a_step_callback_can_stop_training_mid_epoch():
    class StopAt(train.Callback):
        def on_step_end(self, model, history, step):
            return step == 4

    history = train.fit(small_model(), blobs(), epochs=3, batch_size=20, progress=False, device="cpu",
                        callbacks=[StopAt()])
    assert len(history.step_loss) == 4 and history.stopped_early and len(history.epochs) == 1
