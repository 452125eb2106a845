"""The data layer: real Fashion-MNIST, and every failure path of the offline-first source chain."""
import gzip
import hashlib
import io
import urllib.request

import pytest
import torch

from dlcourse import data
from dlcourse.data import fetch
from dlcourse.data.__main__ import main as cli
from dlcourse.data.fashion_mnist import parse_idx

CONTENT = b"the verified content of a small data file\n" * 100


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("DLCOURSE_DATA", str(home))
    return home


def gz(content: bytes, mtime: int = 0) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=mtime) as f:
        f.write(content)
    return buf.getvalue()


def make_sources(tmp_path, urls=(), system=True):
    f = fetch.DataFile("part.bin.gz", hashlib.sha256(CONTENT).hexdigest(), tuple(urls))
    system_dir = tmp_path / "system"
    return f, fetch.Sources((f,), (str(system_dir),) if system else (), ("apt-get install toy-data",)), system_dir


# ---------------------------------------------------------------- Fashion-MNIST, the real thing

def test_fashion_mnist_is_complete_and_well_formed():
    train, test = data.load("fashion-mnist", "train"), data.load("fashion-mnist", "test")
    assert train.x.shape == (60000, 1, 28, 28) and test.x.shape == (10000, 1, 28, 28)
    assert train.x.dtype == torch.float32 and 0.0 <= train.x.min() and train.x.max() <= 1.0
    assert train.y.dtype == torch.int64
    assert torch.bincount(train.y).tolist() == [6000] * 10  # the published class balance
    assert torch.bincount(test.y).tolist() == [1000] * 10
    assert len(train.classes) == 10 and train.classes[9] == "Ankle boot"
    assert data.get("fashion-mnist").license == "MIT"


def test_gzip_headers_do_not_matter_only_content(tmp_path, data_home):
    # Debian's copies and upstream's differ in gzip headers but not in content
    f, sources, _ = make_sources(tmp_path)
    (data_home / "toy").mkdir(parents=True)
    (data_home / "toy" / f.name).write_bytes(gz(CONTENT, mtime=123456))
    content, where = fetch.read_file("toy", sources, f, download=False)
    assert content == CONTENT and where.parent == data_home / "toy"


def test_idx_parser_refuses_garbage():
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        parse_idx(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="header promises"):
        parse_idx(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"\x00" * 3)


# ---------------------------------------------------------------- the source chain

def test_system_copy_is_used_in_place(tmp_path, data_home):
    f, sources, system_dir = make_sources(tmp_path)
    system_dir.mkdir()
    (system_dir / f.name).write_bytes(gz(CONTENT))
    content, where = fetch.read_file("toy", sources, f)
    assert content == CONTENT and where == system_dir / f.name
    assert not (data_home / "toy" / f.name).exists()


def test_download_is_verified_and_cached(tmp_path, data_home):
    served = tmp_path / "served.gz"
    served.write_bytes(gz(CONTENT))
    f, sources, _ = make_sources(tmp_path, urls=[served.as_uri()])
    content, where = fetch.read_file("toy", sources, f, progress=False)
    assert content == CONTENT and where == data_home / "toy" / f.name and where.exists()
    assert fetch.locate("toy", sources, f) == where
    assert list((data_home / "toy").iterdir()) == [where]  # no temporary file left behind


def test_missing_everywhere_names_the_fixes(tmp_path, data_home):
    # port 9 on loopback is closed: the same error as having no network
    f, sources, _ = make_sources(tmp_path, urls=["http://127.0.0.1:9/part.bin.gz"])
    with pytest.raises(data.DataNotFoundError) as err:
        fetch.read_file("toy", sources, f, progress=False)
    message = str(err.value)
    assert "no network or server unreachable" in message
    assert "apt-get install toy-data" in message
    assert "python -m dlcourse.data download toy" in message
    assert "DLCOURSE_DATA" in message
    with pytest.raises(data.DataNotFoundError, match="skipped"):
        fetch.read_file("toy", sources, f, download=False)


def test_corrupted_cache_is_removed_and_fetched_again(tmp_path, data_home):
    f, sources, system_dir = make_sources(tmp_path)
    cached = data_home / "toy" / f.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(gz(CONTENT[:-10] + b"corrupted!"))
    system_dir.mkdir()
    (system_dir / f.name).write_bytes(gz(CONTENT))
    with pytest.warns(UserWarning, match="removed corrupted cached file"):
        content, where = fetch.read_file("toy", sources, f)
    assert content == CONTENT and where == system_dir / f.name and not cached.exists()


def test_truncated_cache_is_explained_when_nothing_else_works(tmp_path, data_home):
    f, sources, _ = make_sources(tmp_path, system=False)
    cached = data_home / "toy" / f.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(gz(CONTENT)[:40])  # an interrupted copy
    with pytest.warns(UserWarning), pytest.raises(data.DataNotFoundError, match="unreadable"):
        fetch.read_file("toy", sources, f)


def test_wrong_download_is_not_kept(tmp_path, data_home):
    served = tmp_path / "served.gz"
    served.write_bytes(gz(b"something else"))
    f, sources, _ = make_sources(tmp_path, urls=[served.as_uri()], system=False)
    with pytest.raises(data.DataNotFoundError, match="checksum mismatch"):
        fetch.read_file("toy", sources, f, progress=False)
    assert not any((data_home / "toy").iterdir())


def test_interrupted_download_leaves_no_file(tmp_path, data_home, monkeypatch):
    class Broken(io.BytesIO):
        headers = {"Content-Length": str(10_000)}

        def read(self, n=-1):
            if self.tell() >= 32:
                raise ConnectionResetError("connection reset by peer")
            return super().read(min(n, 64))

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Broken(gz(CONTENT)))
    f, sources, _ = make_sources(tmp_path, urls=["http://example.invalid/part.bin.gz"], system=False)
    with pytest.raises(data.DataNotFoundError, match="connection reset"):
        fetch.read_file("toy", sources, f, progress=False)
    assert not any((data_home / "toy").iterdir())


# (pinned files of packages on a package index: tests/test_data_index.py)


# ---------------------------------------------------------------- sequence data, the real thing

def test_shakespeare_splits_are_whole_disjoint_works():
    works = data.shakespeare.shakespeare_works()
    assert len(works) == 42 and "hamlet" in works and not any("paradise" in w for w in works)  # no Milton
    splits = {s: data.load("shakespeare", s) for s in ("train", "val", "test")}
    assert splits["test"].startswith("HAMLET") and "To-morrow, and to-morrow, and to-morrow" in splits["test"]
    assert "To be, or not to be" not in splits["train"] and "Friends, Romans, countrymen" in splits["val"]
    titles = {s: data.shakespeare.shakespeare_titles(s) for s in ("train", "val", "test")}
    assert titles["test"] == ["hamlet", "macbeth"] and len(titles["train"]) == 38
    assert sorted(sum(titles.values(), [])) == sorted(works)  # every work in exactly one split
    with pytest.raises(ValueError, match="splits"):
        data.shakespeare.shakespeare_titles("dev")
    total = sum(len(t) for t in works.values())
    assert sum(len(t) for t in splits.values()) == total + len(works) - 3  # joined by one newline per gap
    assert 0.04 < len(splits["val"]) / total < 0.06 and 0.04 < len(splits["test"]) / total < 0.07


def test_movie_reviews_are_balanced_labelled_sentences():
    splits = {s: data.load("movie-reviews", s) for s in ("train", "val", "test")}
    assert sum(len(d) for d in splits.values()) == 10_568  # 10,605 rated sentences less 37 neutral ones
    for d in splits.values():
        assert d.classes == ("negative", "positive")
        assert torch.equal(d.labels, (d.scores > 0).long()) and (d.scores != 0).all()
        assert 0.45 < d.labels.float().mean() < 0.55 and all(d.texts)
    assert len(splits["test"]) == 1054 and not set(splits["test"].texts) & set(splits["train"].texts[:2000])
    assert "Staggeringly dreadful romance." in splits["test"].texts  # id 10600, rated −2.6
    with pytest.raises(ValueError, match="differ in length"):
        data.TextData(("a",), torch.tensor([0, 1]), ("negative", "positive"), torch.tensor([0.5]))


def test_sunspots_span_1700_to_2008():
    sun = data.load("sunspots", "all")
    assert len(sun) == 309 and sun.times[0] == 1700 and sun.times[-1] == 2008
    assert torch.equal(sun.times, torch.arange(1700.0, 2009.0)) and (sun.values >= 0).all()
    assert sun.values[:5].tolist() == [5.0, 11.0, 16.0, 23.0, 36.0]
    assert sun.values.max() == 190.2  # 1957, the largest maximum on record


def test_unknown_names_get_suggestions():
    with pytest.raises(ValueError, match="Did you mean 'fashion-mnist'"):
        data.load("fashion_mnst")
    with pytest.raises(ValueError, match="splits"):
        data.load("fashion-mnist", "validation")
    with pytest.raises(TypeError):
        data.get(3)
    assert data.get("Fashion_MNIST").name == "fashion-mnist"


def test_train_val_split_is_stratified_disjoint_and_deterministic():
    x = torch.arange(100.0)[:, None]
    y = torch.tensor([0] * 80 + [1] * 20)
    train, val = data.train_val_split(data.TensorData(x, y), 0.1, seed=0)
    assert len(train) == 90 and len(val) == 10
    assert torch.bincount(val.y).tolist() == [8, 2]
    assert set(train.x.flatten().tolist()).isdisjoint(val.x.flatten().tolist())
    again = data.train_val_split(data.TensorData(x, y), 0.1, seed=0)[1]
    assert torch.equal(val.x, again.x)
    with pytest.raises(ValueError, match="val_fraction"):
        data.train_val_split(data.TensorData(x, y), 1.5)
    with pytest.raises(ValueError, match="stratify=False"):
        data.train_val_split(data.TensorData(x, x), 0.1)


def test_tensor_data_checks_its_inputs():
    with pytest.raises(ValueError, match="same length"):
        data.TensorData(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(TypeError, match="tensors"):
        data.TensorData([1, 2], torch.zeros(2))
    d = data.TensorData(torch.arange(10.0), torch.arange(10))
    assert [len(b[0]) for b in d.batches(4)] == [4, 4, 2]
    shuffled = torch.cat([b[0] for b in d.batches(3, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))


def test_spirals_are_balanced():
    s = data.spirals(n=300, classes=3, seed=1)
    assert s.x.shape == (300, 2) and torch.bincount(s.y).tolist() == [100] * 3


def test_cli_lists_and_reports_errors(capsys, data_home):
    assert cli(["list"]) == 0
    out = capsys.readouterr().out
    assert "fashion-mnist" in out and str(data_home) in out
    assert cli(["download", "no-such-data"]) == 2
    assert "unknown dataset" in capsys.readouterr().err


def test_adding_problem_marks_one_number_in_each_half():
    d = data.adding_problem(500, 20, seed=3)
    assert d.x.shape == (500, 20, 2) and d.y.shape == (500,)
    markers = d.x[..., 1]
    assert (markers.sum(1) == 2).all() and (markers[:, :10].sum(1) == 1).all()
    torch.testing.assert_close(d.y, (d.x[..., 0] * markers).sum(1))
    assert abs(((d.y - 1) ** 2).mean().item() - 1 / 6) < 0.03  # the mean predictor's error
    torch.testing.assert_close(data.adding_problem(500, 20, seed=3).x, d.x)
    with pytest.raises(ValueError):
        data.adding_problem(10, 1)


def test_photos_come_from_scikit_image():
    cam = data.photo("camera")
    assert cam.shape == (1, 512, 512) and 0 <= cam.min() and cam.max() <= 1
    assert data.photo("astronaut", grey=False).shape == (3, 512, 512)
    assert data.photo("astronaut").shape == (1, 512, 512)
    with pytest.raises(ValueError, match="choose one of"):
        data.photo("lena")


def test_sequence_tasks_are_reversals_and_sorts_of_their_inputs():
    for kind in ("reverse", "sort"):
        d = data.sequence_task(kind, 50, 30, symbols=10, seed=3)
        assert d.x.shape == d.y.shape == (50, 30) and d.x.dtype == d.y.dtype == torch.long
        assert int(d.x.max()) < data.bos_id(10)
        assert torch.equal(d.y.sort(1).values, d.x.sort(1).values)  # a permutation of the input
        if kind == "reverse":
            assert torch.equal(d.y, d.x.flip(1))
        else:
            assert (d.y[:, 1:] >= d.y[:, :-1]).all()
    assert torch.equal(data.sequence_task("sort", 5, 7, seed=1).x, data.sequence_task("sort", 5, 7, seed=1).x)
    with pytest.raises(ValueError, match="kind"):
        data.sequence_task("copy", 5, 7)
