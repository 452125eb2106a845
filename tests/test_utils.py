import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.utils import summary


def test_device_override_and_errors(monkeypatch):
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert dlcourse.get_device() == torch.device("cpu")
    monkeypatch.delenv("DLCOURSE_DEVICE")
    assert dlcourse.get_device().type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            dlcourse.get_device("cuda")


def test_seed_everything_reproduces():
    dlcourse.seed_everything(3)
    a = torch.randn(5)
    dlcourse.seed_everything(3)
    assert torch.equal(a, torch.randn(5))


def test_count_parameters_trainable_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    assert dlcourse.count_parameters(model) == 3 * 4 + 4 + 4 * 2 + 2
    assert dlcourse.count_parameters(model, trainable_only=True) == 4 + 4 * 2 + 2


def test_summary_counts_mult_adds_analytically():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=4),
                          nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    s = summary(model, (3, 8, 8))
    conv1 = 8 * 8 * 8 * (3 * 3 * 3)        # outputs × kernel volume × input channels
    conv2 = 8 * 6 * 6 * (3 * 3 * 8 // 4)   # grouped: each output sees in_channels / groups
    linear = 10 * 288
    assert s.total_mult_adds == conv1 + conv2 + linear
    assert s.total_params == dlcourse.count_parameters(model)
    assert s.layers[-1].output_shape == (10,)
    assert "total" in str(s)


def test_summary_rejects_batch_dimension_mistakes():
    with pytest.raises(ValueError, match="without the batch dimension"):
        summary(nn.Linear(2, 2), (0, 2))


def test_timer_measures():
    with dlcourse.Timer() as t:
        sum(range(10000))
    assert 0 < t.seconds < 5


def test_checkpoints_round_trip_safely(tmp_path):
    model = nn.Linear(3, 2)
    path = dlcourse.save_checkpoint(model, tmp_path / "sub" / "m.pt", test_acc=0.9, epochs=3)
    fresh = nn.Linear(3, 2)
    assert dlcourse.load_checkpoint(fresh, path) == {"test_acc": 0.9, "epochs": 3}
    assert torch.equal(fresh.weight, model.weight)
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"]  # no temporary file left


def test_bad_checkpoints_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        dlcourse.load_checkpoint(nn.Linear(3, 2), tmp_path / "none.pt")
    path = dlcourse.save_checkpoint(nn.Linear(3, 2), tmp_path / "m.pt")
    with pytest.raises(ValueError, match="not a checkpoint of this model"):
        dlcourse.load_checkpoint(nn.Linear(4, 2), path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a checkpoint"):
        dlcourse.load_checkpoint(nn.Linear(3, 2), tmp_path / "junk.pt")

    class Evil:
        def __reduce__(self):
            return (print, ("this would run on load",))

    torch.save({"state_dict": {}, "extra": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError):  # weights_only=True refuses to unpickle arbitrary objects
        dlcourse.load_checkpoint(nn.Linear(3, 2), tmp_path / "evil.pt")


def test_evaluating_switches_to_eval_and_restores_the_mode_even_on_error():
    from dlcourse.utils import evaluating
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    for start in (True, False):
        net.train(start)
        with evaluating(net) as same:
            assert same is net and not net.training and not net[1].training
        assert net.training is start
        with pytest.raises(RuntimeError, match="boom"):
            with evaluating(net):
                raise RuntimeError("boom")
        assert net.training is start
