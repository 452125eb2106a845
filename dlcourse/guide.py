"""The model-selection guide: the appendix page and its figures, written from ``results/benchmark.json``.

    python -m dlcourse.guide     # rewrite appendix/guide.md and its PNG figures from the JSON

``python -m dlcourse.bench`` calls ``write`` too, so the guide always shows the benchmark's last run, like
the Results page. Every number on the page is a value a chapter glued (or arithmetic on such values); a
name the guide needs and the JSON lacks raises ``MissingValue`` naming it.
"""
from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .book import find_root
from .compress import GUIDE_BATCH

RESULTS = Path("results") / "benchmark.json"
PAGE = Path("appendix") / "guide.md"
FIG_TASKS = Path("appendix") / "guide_tasks.png"
FIG_VISION = Path("appendix") / "guide_vision.png"
FIG_SEQUENCE = Path("appendix") / "guide_sequence.png"


class MissingValue(KeyError):
    """A value the guide uses is not in the benchmark's JSON (a chapter renamed or dropped a glue)."""


@dataclass(frozen=True)
class Model:
    """One trained model as the guide shows it: ``chapter:name`` references to glued values."""
    name: str
    score: str  # accuracy (higher is better) or an error (lower is better), per the task
    params: str | None = None
    train_s: str | None = None
    latency_ms: str | None = None
    note: str = ""
    vs_bow: str | None = None  # a glued McNemar verdict against a bag of words on the same test sentences


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    data: str
    metric: str
    higher_is_better: bool
    models: tuple[Model, ...]

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def axis_label(self) -> str:
        return f"{self.metric} ({self.direction})"


TASKS = (
    Task("flat", "Flat vectors (tabular-style input)", "Fashion-MNIST pixels flattened to 784 numbers; a 2-D spiral",
         "test accuracy", True, (
             Model("MLP, 2 hidden units (spiral, training points)", "00_foundations:spiral_acc_2"),
             Model("MLP, 64 hidden units (spiral, training points)", "00_foundations:spiral_acc_64"),
             Model("MLP on flattened images", "00_foundations:test_acc", "00_foundations:mlp_params",
                   "00_foundations:train_seconds", "00_foundations:mlp_latency_ms"))),
    Task("images", "Images", "Fashion-MNIST, 10,000 test images", "test accuracy", True, (
        Model("MLP", "00_foundations:test_acc", "00_foundations:mlp_params", "00_foundations:train_seconds",
              "00_foundations:mlp_latency_ms"),
        Model("LeNet-5", "01_cnn:lenet_acc", "01_cnn:lenet_params", "01_cnn:lenet_seconds", "01_cnn:lenet_latency_ms"),
        Model("LeNet-5, d2l.ai's recipe (sigmoid, SGD)", "01_cnn:d2l_acc", "01_cnn:lenet_params", "01_cnn:d2l_seconds",
              note="same layers as LeNet-5; activation, initialisation and optimiser differ"),
        Model("small CNN", "01_cnn:test_acc", "01_cnn:cnn_params", "01_cnn:train_seconds", "01_cnn:cnn_latency_ms"),
        Model("small ResNet", "02_resnet:test_acc", "02_resnet:resnet_params", "02_resnet:train_seconds",
              "02_resnet:resnet_latency_ms"),
        Model("standard CNN, short run", "03_lightweight:std_acc", "03_lightweight:std_params", None,
              "03_lightweight:std_latency_ms"),
        Model("separable CNN, short run", "03_lightweight:sep_acc", "03_lightweight:sep_params", None,
              "03_lightweight:sep_latency_ms"),
        Model("tiny student, 2,000 labels, alone", "03_lightweight:student_alone", "03_lightweight:student_params",
              note="mean of three seeds"),
        Model("tiny student, 2,000 labels, distilled", "03_lightweight:student_distilled",
              "03_lightweight:student_params", note="mean of three seeds; teacher: the standard CNN"))),
    Task("glimpse", "Where to look: hard and soft attention", "a Fashion-MNIST item at a random place on a 56×56 "
         "canvas; the reader sees one 28×28 crop (or all of them, or a 14×14 thumbnail)", "test accuracy", True, (
             Model("thumbnail only", "06_attention:acc_thumb"),
             Model("one random crop", "06_attention:acc_random"),
             Model("one crop chosen by a policy (REINFORCE)", "06_attention:acc_reinforce"),
             Model("one crop chosen by a policy (Gumbel-softmax)", "06_attention:acc_gumbel"),
             Model("soft attention over every crop", "06_attention:acc_soft",
                   note="reads every crop: see the caveat for its cost"))),
    Task("text", "Text classification", "rated movie-review sentences, positive or negative", "test accuracy",
         True, (
             Model("logistic regression on a bag of words", "04_rnn:bow_acc", "04_rnn:bow_params", None,
                   "04_rnn:bow_latency_ms"),
             Model("RNN classifier", "04_rnn:rnn_acc", "04_rnn:rnn_params", None, "04_rnn:rnn_latency_ms",
                   vs_bow="04_rnn:rnn_verdict"),
             Model("GRU classifier (same recipe)", "04_rnn:gru_acc", "04_rnn:gru_params", None,
                   "04_rnn:gru_latency_ms", vs_bow="04_rnn:gru_vs_bow"),
             Model("Transformer encoder", "07_transformer:tf_acc", "07_transformer:tf_clf_params", None,
                   "07_transformer:tf_latency_ms",
                   note="chapter 7's recipe; its own GRU and bag of words in the caveat",
                   vs_bow="07_transformer:tf_vs_bow"),
             Model("bag of words, 1,000 labels", "08_gpt:ft_bow_acc", note="chapter 8: few labels"),
             Model("small BERT from scratch, 1,000 labels", "08_gpt:ft_scratch_acc", note="chapter 8: few labels"),
             Model("small BERT, MLM pre-trained, then 1,000 labels", "08_gpt:ft_pre_acc",
                   note="chapter 8: few labels; see the slogans' table"))),
    Task("reverse", "Sequence to sequence: reversing", "random sequences of 30 symbols, written backwards",
         "token accuracy", True, (
             Model("GRU encoder–decoder, no attention", "06_attention:s2s_acc_none", "06_attention:s2s_params_none",
                   note="wider, for about the same parameters"),
             Model("GRU encoder–decoder with attention", "06_attention:s2s_acc_attn", "06_attention:s2s_params_attn"))),
    Task("sort", "Sequence to sequence: sorting", "random sequences of 30 symbols, written in sorted order",
         "exact-sequence accuracy", True, (
             Model("GRU encoder–decoder with attention", "07_transformer:gru_sort_exact",
                   "07_transformer:gru_sort_params", "07_transformer:gru_sort_seconds"),
             Model("Transformer encoder–decoder", "07_transformer:sort_exact", "07_transformer:sort_params",
                   "07_transformer:sort_seconds"))),
    Task("lm", "Language modelling (and generation)", "Shakespeare, plays held out from training",
         "bits per character", False, (
             Model("unigram counts", "05_lstm:unigram_bits"),
             Model("bigram counts", "05_lstm:bigram_bits"),
             Model("character LSTM", "05_lstm:val_bits", "05_lstm:lm_params"),
             Model("character LSTM, chapter 8's equal-time race", "08_gpt:lstm_bits", "08_gpt:lstm_params"),
             Model("character GPT, chapter 8's equal-time race", "08_gpt:gpt_bits", "08_gpt:gpt_params",
                   note="same training time as the row above"))),
    Task("series", "Time series", "yearly sunspot numbers, the last years held out", "RMSE (sunspots)", False, (
        Model("naive (last year)", "04_rnn:rmse_naive"),
        Model("seasonal naive (11 years before)", "04_rnn:rmse_seasonal"),
        Model("autoregression AR(p), p chosen on validation years", "04_rnn:rmse_ar", "04_rnn:ar_params"),
        Model("RNN forecaster", "04_rnn:rmse_rnn", "04_rnn:rnn_reg_params",
              note="three seeds inside the chapter: see the caveat"))),
    Task("memory", "Long-range memory", "the adding problem, sequences of 100 steps", "test MSE", False, (
        Model("predict the mean", "05_lstm:adding_mean"),
        Model("RNN, 128 units", "05_lstm:adding_rnn"),
        Model("LSTM, 64 units (about the same parameters)", "05_lstm:adding_lstm"))),
)

@dataclass(frozen=True)
class Generator:
    """One generative model in the generation table: ``chapter:name`` references (None: not measured)."""
    name: str
    ring_modes: str | None = None
    ring_hq: str | None = None
    agreement: str | None = None
    confidence: str | None = None
    frechet: str | None = None
    ms_per_image: str | None = None
    note: str = ""

    def refs(self) -> list[str]:
        return [r for r in (self.ring_modes, self.ring_hq, self.agreement, self.confidence, self.frechet,
                            self.ms_per_image) if r]


GENERATORS = (
    Generator("GAN, plain", "09_gan:plain_ring_modes", "09_gan:plain_ring_hq"),
    Generator("GAN with chapter 9's fix", "09_gan:gan_ring_modes", "09_gan:gan_ring_hq"),
    Generator("class-conditional GAN", agreement="09_gan:gan_fashion_agreement",
              confidence="09_gan:gan_fashion_confidence", frechet="09_gan:gan_frechet",
              ms_per_image="09_gan:gan_ms_per_image"),
    Generator("VAE", "09_gan:vae_ring_modes", "09_gan:vae_ring_hq", confidence="09_gan:vae_fashion_confidence",
              frechet="09_gan:vae_frechet", ms_per_image="09_gan:vae_ms_per_image",
              note="unconditional: no class is asked, so no agreement"),
    Generator("diffusion (DDPM)", "10_diffusion:diff_ring_modes", "10_diffusion:diff_ring_hq"),
    Generator("latent diffusion, guided", agreement="10_diffusion:diff_fashion_agreement",
              frechet="10_diffusion:diff_frechet", ms_per_image="10_diffusion:diff_ms_per_image",
              note="in the latent space of the chapter's own VAE; DDIM sampling"),
    Generator("latent diffusion, unguided", agreement="10_diffusion:diff_fashion_agreement_unguided",
              frechet="10_diffusion:diff_frechet_unguided"),
)


def generation(v: "Values") -> list[str]:
    """The generation section: GANs, VAEs and diffusion models of chapters 9 and 10 on the same measurements."""
    lines = [
        "## Generation: three families on the same measurements", "",
        "Chapters 9 and 10 judge every sampler the same way (`dlcourse.judge`): on the ring of 8 Gaussians, how "
        "many modes get at least one high-quality sample and what share of samples is of high quality (within "
        "3 σ of a mode); on Fashion-MNIST, what chapter 1's CNN (the *judge*) says of the images: the share "
        "recognised as the class that was asked for, its mean confidence, and the Fréchet distance between real and "
        "generated images in the judge's features (FID's recipe with another network, so not an FID).", "",
        "| model | ch. | ring: modes covered (of 8) | ring: high-quality share | judge: asked class recognised "
        "| judge: confidence | Fréchet distance (judge features) | ms per image | note |",
        "|---|:---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for g in GENERATORS:
        chapter = _chapter_link(g.refs()[0])
        lines.append(
            f"| {g.name} | {chapter} | {_cell(v, g.ring_modes, lambda x: f'{x:.0f}')} "
            f"| {_cell(v, g.ring_hq, lambda x: f'{x:.1%}')} | {_cell(v, g.agreement, lambda x: f'{x:.1%}')} "
            f"| {_cell(v, g.confidence, lambda x: f'{x:.2f}')} | {_cell(v, g.frechet, lambda x: f'{x:.1f}')} "
            f"| {_cell(v, g.ms_per_image, lambda x: f'{x:.3f}')} | {g.note} |")
    lines += ["", f"A dash: the chapter does not measure it for that model. Chapter 9's GAN against its VAE: on the ring, "
              f"{v['09_gan:ring_verdict']}; on Fashion-MNIST, {v['09_gan:fashion_verdict']}.", ""]
    return lines


# Other values the page quotes.
USED = ("03_lightweight:macs_saving", "03_lightweight:latency_saving", "03_lightweight:q_size_ratio",
        "03_lightweight:q_acc_drop", "03_lightweight:q_latency_ratio", "03_lightweight:prune_drop_50",
        "03_lightweight:prune_acc_90", "03_lightweight:kd_gain_min", "03_lightweight:kd_gain_max",
        "03_lightweight:teacher_acc", "03_lightweight:prune_latency_ratio", "04_rnn:rnn_minus_bow", "04_rnn:n_test",
        "04_rnn:rnn_verdict", "04_rnn:gru_vs_rnn", "04_rnn:gru_vs_bow", "04_rnn:rmse_rnn_min", "04_rnn:rmse_rnn_max",
        "04_rnn:ar_p", "04_rnn:ar_verdict", "01_cnn:lenet_acc", "03_lightweight:std_acc", "03_lightweight:sep_acc",
        "03_lightweight:student_distilled", "03_lightweight:student_params", "07_transformer:tf_vs_gru",
        "07_transformer:tf_vs_bow", "07_transformer:tf_gru_acc", "07_transformer:tf_bow_acc",
        "07_transformer:sort_vs_gru", "06_attention:s2s_gap", "06_attention:px_hard", "06_attention:px_soft",
        "06_attention:time_ratio", "08_gpt:race_seconds", "08_gpt:verdict_time", "08_gpt:verdict_chars",
        "09_gan:ring_verdict", "09_gan:fashion_verdict", "08_gpt:ft_vs_bow", "08_gpt:ft_vs_scratch")

def used_names() -> list[str]:
    """Every ``chapter:name`` the guide reads."""
    names = [*USED]
    for task in TASKS:
        for m in task.models:
            names += [n for n in (m.score, m.params, m.train_s, m.latency_ms) if n]
    for g in GENERATORS:
        names += g.refs()
    return sorted(set(names))


class Values:
    """Glued values by ``chapter:name``, with their spread over seeds where the benchmark measured one."""

    def __init__(self, results: dict):
        self.chapters = {r["chapter"]: r for r in results["chapters"]}

    def has(self, ref: str) -> bool:
        chapter, name = ref.split(":")
        return name in self.chapters.get(chapter, {}).get("values", {})

    def __getitem__(self, ref: str) -> float:
        if not self.has(ref):
            raise MissingValue(f"the guide uses {ref}, which {RESULTS} does not have: did the chapter rename it?")
        chapter, name = ref.split(":")
        return self.chapters[chapter]["values"][name]

    def spread(self, ref: str) -> dict | None:
        chapter, name = ref.split(":")
        return self.chapters.get(chapter, {}).get("spread", {}).get(name)

    def seeds(self, ref: str) -> int:
        return len(self.chapters.get(ref.split(":")[0], {}).get("seeds", []))


def _score(task: Task, value: float) -> str:
    if task.metric.endswith("accuracy"):
        return f"{value:.2%}"
    if task.metric.startswith("bits"):
        return f"{value:.2f}"
    return f"{value:.3g}" if value < 0.01 else f"{value:.4g}"


def _with_spread(v: Values, ref: str, fmt) -> str:
    spread = v.spread(ref)
    text = fmt(v[ref])
    if spread and spread["min"] != spread["max"]:  # a count that no seed changes needs no range
        text += f" ({fmt(spread['min'])}–{fmt(spread['max'])} over {v.seeds(ref)} seeds)"
    return text


def _cell(v: Values, ref: str | None, fmt) -> str:
    return "—" if ref is None else _with_spread(v, ref, fmt)


def _chapter_link(ref: str) -> str:
    chapter = ref.split(":")[0]
    return f"{{doc}}`{int(chapter[:2])} <../chapters/{chapter}>`"


def _best(task: Task, v: Values) -> Model:
    key = (lambda m: v[m.score]) if task.higher_is_better else (lambda m: -v[m.score])
    return max(task.models, key=key)


FASHION_TEST = 10_000  # Fashion-MNIST's test images (Xiao et al. 2017)


def two_se(a: float, b: float, n: int) -> float:
    """Two standard errors of the difference of two accuracies measured on the same ``n`` test examples
    (binomial errors, treated as independent). The JSON holds only the accuracies, not which examples each
    model got right, so the guide cannot run chapter 4's paired McNemar test on them; treating paired results
    as independent overstates the noise, so 'beats' is safe and 'within the noise' is not proof of a tie."""
    return 2 * math.sqrt(a * (1 - a) / n + b * (1 - b) / n)


def compare(a: float, b: float, n: int) -> str:
    """``a`` against ``b`` in words: 'beats', 'does worse than' or 'is within the noise of'."""
    noise = two_se(a, b, n)
    return "beats" if a - b > noise else "does worse than" if b - a > noise else "is within the noise of"


PAIRED = re.compile(r"\(McNemar's p = ([^)]+)\): (?:the difference is \*\*(not significant)\*\*|"
                    r"the .+? \*\*(beats|does worse than)\*\* the )")


def paired(v: Values, ref: str) -> tuple[str, str]:
    """A McNemar verdict chapter 4 glued as a sentence, read back: ('beats' | 'does worse than' |
    'not significant', its p-value as written)."""
    match = PAIRED.search(v[ref])
    if match is None:
        raise MissingValue(f"{ref} is no longer a McNemar verdict the guide can read: {v[ref]!r}")
    return match.group(2) or match.group(3), match.group(1)


def _paired_words(v: Values, ref: str) -> str:
    outcome, p = paired(v, ref)
    words = {"beats": "better", "does worse than": "worse", "not significant": "no significant difference"}
    return f"{words[outcome]}, p = {p}"


def generation_words(v: Values) -> str:
    """The slogan "generation: GAN/VAE" against chapters 9 and 10's measurements."""
    ring = {"the plain GAN": ("09_gan:plain_ring_modes", "09_gan:plain_ring_hq"),
            "the GAN with chapter 9's fix": ("09_gan:gan_ring_modes", "09_gan:gan_ring_hq"),
            "the VAE": ("09_gan:vae_ring_modes", "09_gan:vae_ring_hq"),
            "diffusion": ("10_diffusion:diff_ring_modes", "10_diffusion:diff_ring_hq")}
    best_ring = max(ring, key=lambda k: (v[ring[k][0]], v[ring[k][1]]))
    gan, diff = v["09_gan:gan_fashion_agreement"], v["10_diffusion:diff_fashion_agreement"]
    ring_words = "; ".join(f"{name} {v[m]:.0f}/8 modes, {v[q]:.0%} high-quality" for name, (m, q) in ring.items())
    fashion = ("diffusion" if diff > gan else "the GAN") + " was recognised more often"
    frechet = {"the conditional GAN": v["09_gan:gan_frechet"], "the VAE": v["09_gan:vae_frechet"],
               "guided latent diffusion": v["10_diffusion:diff_frechet"]}
    closest = min(frechet, key=frechet.get)
    frechet_words = ", ".join(f"{name} {value:.1f}" for name, value in frechet.items())
    return (f"**incomplete**: it leaves out diffusion models. On the ring of 8 Gaussians ({{doc}}`chapter 9 "
            f"<../chapters/09_gan>`, {{doc}}`chapter 10 <../chapters/10_diffusion>`): {ring_words}; best: {best_ring}. "
            f"On Fashion-MNIST the judge recognised the asked class in {gan:.1%} of the conditional GAN's samples and "
            f"{diff:.1%} of guided latent diffusion's: {fashion}; Fréchet distance to real images in the judge's "
            f"features (lower is closer): {frechet_words}, closest {closest}. The course's first generator is none of these: chapter 5's character LSTM samples text at "
            f"{v['05_lstm:val_bits']:.2f} bits per character, against {v['05_lstm:bigram_bits']:.2f} for bigram counts.")


def verdicts(v: Values) -> list[tuple[str, str, str]]:
    """The source's guide, line by line: (its words, a translation, what the course measured)."""
    mlp, lenet, cnn = v["00_foundations:test_acc"], v["01_cnn:lenet_acc"], v["01_cnn:test_acc"]
    resnet, d2l = v["02_resnet:test_acc"], v["01_cnn:d2l_acc"]
    bow, rnn, gru, n_text = v["04_rnn:bow_acc"], v["04_rnn:rnn_acc"], v["04_rnn:gru_acc"], v["04_rnn:n_test"]
    beat_bow = [name for name, ref in (("RNN", "04_rnn:rnn_verdict"), ("GRU", "04_rnn:gru_vs_bow"))
                if paired(v, ref)[0] == "beats"]
    text_ok = bool(beat_bow)
    naive = min(v["04_rnn:rmse_naive"], v["04_rnn:rmse_seasonal"])
    rnn_lo, rnn_hi, ar = v["04_rnn:rmse_rnn_min"], v["04_rnn:rmse_rnn_max"], v["04_rnn:rmse_ar"]
    series = rnn_hi < naive  # every RNN seed beats both naive forecasts
    ar_words = ("**better than every RNN seed**: try it before the network" if ar < rnn_lo else
                "worse than every RNN seed: here the network earns its place" if ar > rnn_hi else
                "**inside the RNNs' range**, as good as the network: try it first")
    weak_cnns = [f"{name} ({acc:.2%}) {compare(acc, mlp, FASHION_TEST)} the MLP"
                 for name, acc in (("LeNet-5", lenet), ("LeNet-5 trained with d2l.ai's recipe", d2l))
                 if compare(acc, mlp, FASHION_TEST) != "beats"]
    rnn_mem, mean_mem, lstm_mem = v["05_lstm:adding_rnn"], v["05_lstm:adding_mean"], v["05_lstm:adding_lstm"]
    cnn_ok = compare(max(cnn, resnet), mlp, FASHION_TEST) == "beats"
    tf = v["07_transformer:tf_acc"]
    tf_bow, tf_gru = paired(v, "07_transformer:tf_vs_bow")[0], paired(v, "07_transformer:tf_vs_gru")[0]
    transformer_words = (
        ("supported" if tf_bow == "beats" and tf_gru == "beats" else "**not supported** at this size and budget")
        + f": a small Transformer encoder ({tf:.2%}, {{doc}}`chapter 7 <../chapters/07_transformer>`) against a "
        f"bag of words trained by the same chapter ({v['07_transformer:tf_bow_acc']:.2%}), "
        f"{_paired_words(v, '07_transformer:tf_vs_bow')}; against a GRU ({v['07_transformer:tf_gru_acc']:.2%}), "
        f"{_paired_words(v, '07_transformer:tf_vs_gru')}")
    return [
        ("结构化数据:MLP", "structured data: MLP",
         f"not measured: the course has no tabular data set. On flat vectors of pixels the MLP reached {mlp:.2%}; "
         f"on a 2-D spiral an MLP with 2 hidden units fitted {v['00_foundations:spiral_acc_2']:.0%} of the "
         f"training points, with 64, {v['00_foundations:spiral_acc_64']:.0%}."),
        ("图像数据:CNN", "image data: CNN",
         ("supported" if cnn_ok else "**not supported**") +
         f": the small CNN ({cnn:.2%}) {compare(cnn, mlp, FASHION_TEST)} the MLP ({mlp:.2%}), and the small "
         f"ResNet ({resnet:.2%}) {compare(resnet, mlp, FASHION_TEST)} it. "
         + (f"But not any CNN: {'; '.join(weak_cnns)}" if weak_cnns else
            f"So do LeNet-5 ({lenet:.2%}) and LeNet-5 trained with d2l.ai's recipe ({d2l:.2%})")
         + " (two standard errors of a difference on 10,000 test images, the runs treated as independent)."),
        ("序列数据:RNN/LSTM", "sequence data: RNN/LSTM",
         f"RNN and LSTM are **not interchangeable**: on the adding problem the RNN's MSE ({rnn_mem:.3g}) "
         f"{'is no better than' if rnn_mem >= mean_mem else 'is below'} predicting the mean ({mean_mem:.3g}); "
         f"the LSTM's is {lstm_mem:.2g}."),
        ("文本数据:Transformer/BERT", "text data: Transformer/BERT",
         f"{transformer_words}. A small BERT pre-trained here by masked-language modelling and fine-tuned on 1,000 "
         f"labels ({{doc}}`chapter 8 <../chapters/08_gpt>`): against the same model from scratch, "
         f"{_paired_words(v, '08_gpt:ft_vs_scratch')}; against a bag of words on the same labels, "
         f"{_paired_words(v, '08_gpt:ft_vs_bow')}: "
         + ("pre-training bought accuracy. " if paired(v, "08_gpt:ft_vs_scratch")[0] == "beats" else
            "pre-training this small and this brief did not buy accuracy. ")
         + f"Chapter 4's models, paired on the same "
         f"{n_text:,} test sentences (McNemar's test, the benchmark's first run): the RNN ({rnn:.2%}) against a bag "
         f"of words ({bow:.2%}), "
         f"{_paired_words(v, '04_rnn:rnn_verdict')}; the GRU ({gru:.2%}) against the bag of words, "
         f"{_paired_words(v, '04_rnn:gru_vs_bow')}."),
        ("分类任务:CNN/MLP", "classification: CNN/MLP",
         "for images, the row above. For sentences the slogan names no model; "
         + (f"the {' and the '.join(beat_bow)} beat a linear model on word counts." if text_ok else
            "neither the RNN nor the GRU significantly beat a linear model on word counts: "
            "**start with a baseline**.")),
        ("序列预测:RNN/LSTM", "sequence prediction: RNN/LSTM",
         ("supported against naive forecasts" if series else "**contradicted**")
         + f" for sunspots: the RNN's RMSE {v['04_rnn:rmse_rnn']:.1f} ({rnn_lo:.1f}–{rnn_hi:.1f} over the chapter's "
         f"three seeds) against {v['04_rnn:rmse_naive']:.1f} (naive) and {v['04_rnn:rmse_seasonal']:.1f} (seasonal "
         f"naive). But the classical linear model, AR({v['04_rnn:ar_p']}) with {v['04_rnn:ar_params']} coefficients, "
         f"scores {ar:.1f}, {ar_words}. For long gaps, the LSTM, not the RNN (two rows up)."),
        ("生成任务:GAN/VAE", "generation: GAN/VAE", generation_words(v)),
        ("自然语言处理:Transformer/BERT", "natural-language processing: Transformer/BERT",
         f"for sentence classification, {transformer_words}. "
         + (f"A recurrent network (the {' and the '.join(beat_bow)}) already beat the bag of words." if text_ok else
            "**Contradicted as a first step** for sentence classification: neither the RNN "
            f"({v['04_rnn:rnn_minus_bow']:+.2f} points, McNemar's p = {paired(v, '04_rnn:rnn_verdict')[1]}) nor the "
            f"GRU (p = {paired(v, '04_rnn:gru_vs_bow')[1]}) significantly beat a bag of words; a bigger sequence "
            "model has to beat that baseline first.")),
    ]


SOURCE_QUOTE = """\
```text
模型选择指南
1. 数据特征考虑
- 结构化数据:MLP
- 图像数据:CNN
- 序列数据:RNN/LSTM
- 文本数据:Transformer/BERT
2. 任务类型考虑
- 分类任务:CNN/MLP
- 序列预测:RNN/LSTM
- 生成任务:GAN/VAE
- 自然语言处理:Transformer/BERT
3. 资源限制考虑
- 计算资源
- 训练时间
- 模型大小
- 推理速度
```

"Model-selection guide. 1. Considering the data: structured data: MLP; image data: CNN; sequence data:
RNN/LSTM; text data: Transformer/BERT. 2. Considering the task: classification: CNN/MLP; sequence
prediction: RNN/LSTM; generation: GAN/VAE; natural-language processing: Transformer/BERT. 3. Considering
resource limits: compute; training time; model size; inference speed.\""""


def render(results: dict) -> str:
    """The appendix page "Model-selection guide", as MyST markdown."""
    v = Values(results)
    for ref in used_names():
        v[ref]  # noqa: B018 -- fails early, naming the missing value
    m = results["machine"]
    lines = [
        "# Model-selection guide（模型选择指南）",
        "",
        "```{note}",
        "This page and its figures are written by `python -m dlcourse.bench` (or `python -m dlcourse.guide`) "
        "from `results/benchmark.json`; do not edit them by hand.",
        "```",
        "",
        "The second source article ends with a guide of slogans:",
        "",
        SOURCE_QUOTE,
        "",
        "This page replaces the slogans with what the chapters measured, on the same data and the same machine: "
        f"{m['cpus']} CPU cores ({m['threads']} torch threads), PyTorch {m['torch']}, on {results['date']}. "
        "No GPU measurements yet. Latency is the median time of one forward pass over the first "
        f"{GUIDE_BATCH} test examples by a CPU copy of the model (`compress.cpu_latency_ms`), whatever device "
        "trained it. A measurement speaks for its data set and budget, not for every problem; the chapter "
        "linked in each row says how it was made.",
        "",
        "```{figure} guide_tasks.png",
        ":name: fig-guide-tasks",
        "",
        "Each task the course measured, every model it trained, best in dark. Accuracy: longer is better; "
        "errors (bits, RMSE, MSE): shorter is better.",
        "```",
        "",
        "## The slogans against the measurements",
        "",
        "| the article says | meaning | measured here |",
        "|---|---|---|",
    ]
    lines += [f"| {zh} | {en} | {measured} |" for zh, en, measured in verdicts(v)]
    lines += ["", "## Every task, side by side", ""]
    for task in TASKS:
        best = _best(task, v)
        lines += [f"### {task.title}", "", f"Data: {task.data}. Score: {task.axis_label}; best: **{best.name}**.",
                  "", f"| model | ch. | {task.metric} | parameters | training time (s) "
                  f"| latency, {GUIDE_BATCH} test examples (ms) | note |",
                  "|---|:---:|---:|---:|---:|---:|---|"]
        for mo in task.models:
            lines.append(
                f"| {mo.name} | {_chapter_link(mo.score)} | {_with_spread(v, mo.score, lambda x: _score(task, x))} "
                f"| {_cell(v, mo.params, lambda x: f'{x:,}')} | {_cell(v, mo.train_s, lambda x: f'{x:.1f}')} "
                f"| {_cell(v, mo.latency_ms, lambda x: f'{x:.2f}')} | {mo.note} |")
        lines += ["", *CAVEATS[task.key](v), ""]
    lines += generation(v)
    lines += resources(v)
    lines += ["## Not measured", "",
              "No chapter measures memory use beyond the parameter counts above (4 bytes each in float32), and "
              "no timing on this page comes from a GPU.", ""]
    return "\n".join(lines).rstrip() + "\n"


CAVEATS = {
    "flat": lambda v: [
        "The spiral scores are training accuracy on a 2-D toy ({doc}`../chapters/00_foundations`, the interactive "
        "view of hidden units): they "
        "show that a narrow MLP cannot bend its boundary enough, not how it generalises."],
    "images": lambda v: [
        f"The students learn from 2,000 labelled images, the other models from the full training set: compare "
        f"them with each other (distillation gained {v['03_lightweight:kd_gain_min']:.2f} to "
        f"{v['03_lightweight:kd_gain_max']:.2f} points over three seeds; their teacher is chapter 3's standard CNN), "
        "not with the rest. The chapter 3 CNNs train for a few epochs only, to compare a standard and a separable "
        "network at equal budget. The two LeNet-5 rows have the same layers and differ in activation, "
        "initialisation and training recipe at once."],
    "text": lambda v: [
        f"All three models answer the same {v['04_rnn:n_test']:,} test sentences, so chapter 4 compares them paired, "
        f"with McNemar's exact test ({{doc}}`../chapters/04_rnn`, section 4). The RNN against the bag of words, which "
        f"ignores word order ({v['04_rnn:rnn_minus_bow']:+.2f} points): {v['04_rnn:rnn_verdict']}. The GRU against "
        f"the RNN: {v['04_rnn:gru_vs_rnn']}; against the bag of words: {v['04_rnn:gru_vs_bow']}. These verdicts are "
        "the benchmark's first run's; the table gives each accuracy's spread over seeds. Chapter 7 trains its own GRU "
        f"({v['07_transformer:tf_gru_acc']:.2%}) and bag of words ({v['07_transformer:tf_bow_acc']:.2%}) beside the "
        f"Transformer, on the same sentences: Transformer against GRU, {v['07_transformer:tf_vs_gru']}; against the "
        f"bag of words, {v['07_transformer:tf_vs_bow']}."],
    "glimpse": lambda v: [
        f"Hard attention reads {v['06_attention:px_hard']:,} pixels per image, soft attention over every crop "
        f"{v['06_attention:px_soft']:,}, and soft attention took {v['06_attention:time_ratio']:.1f}× the time per image "
        "on this CPU: the source's \"efficient but less accurate\" is half right here, since the trained hard "
        "choice was also the more accurate ({doc}`../chapters/06_attention`, section 3)."
        if v["06_attention:acc_reinforce"] > v["06_attention:acc_soft"] else
        f"Hard attention reads {v['06_attention:px_hard']:,} pixels per image, soft attention over every crop "
        f"{v['06_attention:px_soft']:,}, and soft attention took {v['06_attention:time_ratio']:.1f}× the time per image "
        "on this CPU ({doc}`../chapters/06_attention`, section 3)."],
    "reverse": lambda v: [
        "The answer's first token is the input's last: without attention the decoder must carry all 30 symbols in one "
        f"state; with it, it looks back ({{doc}}`../chapters/06_attention`: {v['06_attention:s2s_gap']:.0f} points apart, "
        "equal parameters and steps)."],
    "sort": lambda v: [
        "Both models have about the same parameters and learn from the same sequences in one pass; "
        f"{v['07_transformer:sort_vs_gru']} ({{doc}}`../chapters/07_transformer`, the benchmark's first run). "
        "The training times are the benchmark's; chapter 7 does not assert which model trains faster, because "
        "the order flipped between its runs."],
    "lm": lambda v: [
        "Generation is judged by the same number: the LSTM's samples come from the model scored here "
        "({doc}`../chapters/05_lstm`, sampling and temperature). Chapter 8 trains a character GPT and a character "
        f"LSTM for {v['08_gpt:race_seconds']} s each on the same plays and scores both the same way. "
        f"{v['08_gpt:verdict_time']}. {v['08_gpt:verdict_chars']} ({{doc}}`../chapters/08_gpt`). Images: the "
        "generation section below."],
    "series": lambda v: [
        "Copying the value of 11 years before (the seasonal naive forecast) was "
        + ("worse" if v["04_rnn:rmse_seasonal"] > v["04_rnn:rmse_naive"] else "better")
        + " than copying last year's; the RNN "
        + ("beat both" if v["04_rnn:rmse_rnn"] < min(v["04_rnn:rmse_naive"], v["04_rnn:rmse_seasonal"])
           else "did not beat both")
        + f". The chapter trains three RNNs (RMSE {v['04_rnn:rmse_rnn_min']:.1f} to {v['04_rnn:rmse_rnn_max']:.1f}); "
        f"the table shows the first. The order of the autoregression, p = {v['04_rnn:ar_p']}, was chosen on the "
        f"last training years, never on the test tail; {v['04_rnn:ar_verdict']}."],
    "memory": lambda v: [
        "The RNN has more units than the LSTM so that both have about the same number of parameters "
        "({doc}`../chapters/05_lstm`, section 2)."],
}


def _range(v: Values, ref: str) -> tuple[float, float]:
    """The smallest and largest value of ``ref`` over the benchmark's seeds (the value itself without a spread)."""
    spread = v.spread(ref)
    return (spread["min"], spread["max"]) if spread else (v[ref], v[ref])


def _seeds_note(v: Values, ref: str) -> str:
    """'0.86–1.02× over 3 seeds' for a ratio the benchmark measured under several seeds, else ''."""
    spread = v.spread(ref)
    return f"{spread['min']:.2f}–{spread['max']:.2f}× over {v.seeds(ref)} seeds" if spread else ""


def resources(v: Values) -> list[str]:
    """The resource-limits section: what compute, size and speed cost in accuracy (chapters 1–3)."""
    q = v["03_lightweight:q_latency_ratio"]
    q_lo, q_hi = _range(v, "03_lightweight:q_latency_ratio")
    speed = (f"{1 / q:.2f}× faster" if q_hi < 1 else f"{q:.2f}× the float model's time: **not faster**" if q_lo >= 1
             else f"{q:.2f}× the float model's time: **no reliable speed-up**")
    if _seeds_note(v, "03_lightweight:q_latency_ratio"):
        speed += f" ({_seeds_note(v, '03_lightweight:q_latency_ratio')})"
    lat = v["03_lightweight:latency_saving"]
    lat_lo, lat_hi = _range(v, "03_lightweight:latency_saving")
    sep_speed = (f"{lat:.2f}× faster" if lat_lo > 1 else f"{1 / lat:.2f}× slower" if lat_hi <= 1
                 else f"{lat:.2f}× the speed, not reliably faster")
    sep_speed += f" ({'; '.join(filter(None, ['256 images', _seeds_note(v, '03_lightweight:latency_saving')]))})"
    prune_note = "; ".join(filter(None, ["256 images", _seeds_note(v, "03_lightweight:prune_latency_ratio")]))
    student = v["03_lightweight:student_params"]
    teacher_size = f"{v['03_lightweight:std_params'] / student:.1f}× fewer parameters than its teacher"
    return [
        "## Resource limits, made concrete", "",
        "```{figure} guide_vision.png",
        ":name: fig-guide-vision",
        "",
        "Vision models of chapters 0–3 on Fashion-MNIST: test accuracy against size (parameters), training "
        f"time and latency (one forward pass over {GUIDE_BATCH} test images) on the CPU. A model appears in a "
        "panel when its chapter measured that quantity.",
        "```",
        "",
        "What the lightweight techniques of {doc}`../chapters/03_lightweight` bought on this CPU:",
        "",
        "| technique | saving | cost in accuracy | speed |",
        "|---|---|---|---|",
        f"| depthwise-separable convolutions | {v['03_lightweight:macs_saving']:.2f}× fewer mult-adds "
        f"| {v['03_lightweight:std_acc']:.2%} → {v['03_lightweight:sep_acc']:.2%} "
        f"| {sep_speed} |",
        f"| int8 quantization (torchao) | {v['03_lightweight:q_size_ratio']:.2f}× smaller "
        f"| {v['03_lightweight:q_acc_drop']:.2f} points | {speed} |",
        f"| pruning, 50% of weights (fine-tuned) | zeros still stored densely | "
        f"{v['03_lightweight:prune_drop_50']:.2f} points (90%: {v['03_lightweight:prune_acc_90']:.2%} accuracy) "
        f"| 90% of weights zero: {v['03_lightweight:prune_latency_ratio']:.2f}× the dense model's time "
        f"({prune_note}) |",
        f"| distillation into a tiny student | {teacher_size} | teacher (the standard CNN) "
        f"{v['03_lightweight:teacher_acc']:.2%}, student "
        f"{v['03_lightweight:student_distilled']:.2%} (2,000 labels) | not measured |",
        "",
        f"{v['03_lightweight:macs_saving']:.2f}× fewer operations gave {lat:.2f}× "
        f"the speed, and a {v['03_lightweight:q_size_ratio']:.2f}× smaller model ran at {1 / q:.2f}× the speed: "
        "measure latency on the target device before choosing.",
        "",
        *sequence_costs(v),
    ]


def sequence_costs(v: Values) -> list[str]:
    """The sequence models of chapters 4–8: accuracy (or bits) against size and latency, with the figure."""
    text = next(t for t in TASKS if t.key == "text")
    timed = [m for m in text.models if m.latency_ms]
    fast, slow = min(timed, key=lambda m: v[m.latency_ms]), max(timed, key=lambda m: v[m.latency_ms])
    best = max(timed, key=lambda m: v[m.score])
    best_words = ("the fastest was also the most accurate" if best is fast else
                  f"the most accurate, the {best.name} at {v[best.score]:.2%}, took "
                  f"{v[best.latency_ms] / v[fast.latency_ms]:.0f}× the fastest's time"
                  + (f" (against a bag of words on the same sentences: {_paired_words(v, best.vs_bow)})"
                     if best.vs_bow else ""))
    gpt, lstm = v["08_gpt:gpt_params"], v["08_gpt:lstm_params"]
    return [
        "```{figure} guide_sequence.png",
        ":name: fig-guide-sequence",
        "",
        "Sequence models of chapters 4–8. Left and middle: sentence classification (every training label), test "
        f"accuracy against parameters and against latency (one forward pass over {GUIDE_BATCH} test sentences on "
        "the CPU). Right: language modelling on Shakespeare, bits per character against parameters.",
        "```",
        "",
        f"For sentences, latency spans {v[slow.latency_ms] / v[fast.latency_ms]:.0f}×: the {fast.name} answered "
        f"{GUIDE_BATCH} sentences in {v[fast.latency_ms]:.2f} ms, the {slow.name} in {v[slow.latency_ms]:.1f} ms; "
        f"{best_words}. For characters, chapter 8's GPT has {gpt:,} parameters against its LSTM's {lstm:,} "
        f"({gpt / lstm:.2f}×) and, after the same {v['08_gpt:race_seconds']} s of training, scored "
        f"{v['08_gpt:gpt_bits']:.2f} bits per character against {v['08_gpt:lstm_bits']:.2f}: "
        + ("the larger model was the better one." if (gpt > lstm) == (v["08_gpt:gpt_bits"] < v["08_gpt:lstm_bits"])
           else "the larger model scored worse; with the training time fixed, size alone does not decide."),
        "",
    ]


def figures(results: dict) -> dict[Path, object]:
    """The guide's figures (matplotlib ``Figure`` objects, no pyplot state), keyed by their path."""
    from matplotlib.figure import Figure

    v = Values(results)
    rows = math.ceil(len(TASKS) / 2)
    fig = Figure(figsize=(10, 2.85 * rows), layout="constrained")
    axes = fig.subplots(rows, 2).ravel()
    for ax in axes[len(TASKS):]:
        ax.set_visible(False)
    for ax, task in zip(axes, TASKS):
        scores = [v[m.score] for m in task.models]
        best = _best(task, v)
        colors = ["#1f4e79" if m is best else "#9dc3e6" for m in task.models]
        ax.barh(range(len(scores)), scores, color=colors)
        ax.set_yticks(range(len(scores)), [m.name for m in task.models], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(task.title, fontsize=9)
        ax.set_xlabel(task.axis_label, fontsize=8)
        if task.metric.endswith("accuracy"):
            ax.set_xlim(min(0.5, min(scores) - 0.05), 1.0)
        elif max(scores) / max(min(scores), 1e-12) > 100:
            ax.set_xscale("log")
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    tasks = {t.key: t for t in TASKS}
    fig2 = _scatter_figure(v, 4.2, (
        (tasks["images"], "params", "parameters (log scale)", True, "Fashion-MNIST"),
        (tasks["images"], "train_s", "training time on the CPU (s)", False, "Fashion-MNIST"),
        (tasks["images"], "latency_ms", f"latency, {GUIDE_BATCH} test images on the CPU (ms)", False,
         "Fashion-MNIST")))
    fig3 = _scatter_figure(v, 4, (
        (tasks["text"], "params", "parameters (log scale)", True, "Sentences: accuracy against size"),
        (tasks["text"], "latency_ms", f"latency, {GUIDE_BATCH} test sentences on the CPU (ms, log scale)", True,
         "Sentences: accuracy against latency"),
        (tasks["lm"], "params", "parameters (log scale)", True, "Characters: bits against size")))
    return {FIG_TASKS: fig, FIG_VISION: fig2, FIG_SEQUENCE: fig3}


def _scatter_figure(v: Values, height: float, panels) -> object:
    """A row of scatter panels, each ``(task, field, x label, log x, title)``, above one shared legend."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height), layout="constrained")
    axes, styles = fig.subplots(1, len(panels)), {}
    for ax, (task, field, label, log, title) in zip(axes, panels):
        _scatter(ax, v, task, field, label, log, styles, title)
    _legend(fig, axes)
    return fig


def _compact(x: float, _pos=None) -> str:
    """A tick label: 1.2M, 400k, 0.1."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


MARKERS = "osD^vP*Xph"


def _scatter(ax, v: Values, task: Task, field: str, label: str, log: bool, styles: dict[str, int],
             title: str) -> None:
    """One panel: the score of every model of ``task`` that has ``field`` against that field. ``styles`` is
    shared by a figure's panels: a model keeps one colour and marker in all of them (numbered in the order the
    models first appear), so that one legend per figure names them."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    points = [(m, v[getattr(m, field)], v[m.score]) for m in task.models if getattr(m, field)]
    for m, x, y in points:
        i = styles.setdefault(m.name, len(styles))
        ax.scatter(x, y, s=45, color=f"C{i % 10}", marker=MARKERS[i % len(MARKERS)], label=m.name)
    if log:
        ax.set_xscale("log")
        span = math.log10(max(x for _, x, _ in points) / min(x for _, x, _ in points))
        if span < 1.5:  # few decades: ticks at 1, 2, 5 (or every digit) of each, else some panels show no number
            ax.xaxis.set_major_locator(LogLocator(subs=range(1, 10) if span < 0.5 else (1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(_compact))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.15, y=0.12)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(label, fontsize=8)
    ax.set_ylabel(task.axis_label, fontsize=8)
    ax.tick_params(which="both", labelsize=7)
    ax.grid(alpha=0.3)


def _legend(fig, axes) -> None:
    """One legend below the panels: every model shown in any of them, once."""
    seen = {}
    for ax in axes:
        for handle, name in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(name, handle)
    fig.legend(seen.values(), seen.keys(), loc="outside lower center", ncol=3, fontsize=7, frameon=False)


def write(root: Path, results: dict) -> Path:
    """Write the guide page and its figures under ``root``."""
    page = root / PAGE
    page.write_text(render(results), encoding="utf-8")
    for path, fig in figures(results).items():
        fig.savefig(root / path, dpi=110, metadata={"Software": None})
    return page


def main() -> int:
    root = find_root()
    results = json.loads((root / RESULTS).read_text(encoding="utf-8"))
    print(f"wrote {write(root, results)} and its figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
