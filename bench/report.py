"""Renders docs/benchmarks.md from the results dictionary that bench.run writes as JSON."""

from __future__ import annotations

from typing import Any

from bench.stats import LATENCY_TARGET, THROUGHPUT_TARGET, Target

HOW_TO_READ = """\
## How to read this

- **A turn** is one `POST /webhooks/rest/webhook` from the load generator until the
  bot's whole reply list is back: HTTP, NLU, policy prediction, every action of the
  turn and the tracker-store save. For Rapport that includes its custom action (an HTTP
  call to the action server) and the profile write to the SQLite store; its Rasa server
  also saves trackers in SQLite (SQL tracker store), while the starter bot keeps them in
  memory (its default). **Profiling turns** are Rapport's four answer turns
  ("text me, email is too much", "no thanks" to marketing by SMS, "weekly", "stress and
  focus"): custom action + DB write.
- **Baseline**: Rasa's own starter bot (`rasa init --no-prompt`, default pipeline and
  policies: DIET, ResponseSelector, Memoization, Rule, UnexpecTED and TED), talking its
  own five-turn conversation ("hi", "I am feeling great", "bye", "are you a bot?",
  "hello"). The two bots do different work; the ratio compares what a shopper waits
  for per turn, not the same conversation.
- **Concurrency N**: N shoppers talk at the same time, each waiting for the bot's reply
  before the next message; a finished shopper is replaced by a new one (new sender id).
  **msg/s** is answered turns divided by the wall time of the phase. Rapport's work is
  split over two processes (Rasa and the action server), which can overlap on 2 cores
  under concurrency; the starter bot is one process.
- **Noise**: both bots run in the same session and are measured in alternating rounds
  (A, B, then B, A ...), after warm-up conversations. Percentiles pool every round; the
  per-round ratios show how much a single round can move. On 2 cores, the load
  generator shares the CPU with the servers, and a p99 over a few hundred turns is a
  few samples only.
- **Not measured**: other channels (Telegram, Slack, Socket.IO), PostgreSQL instead of
  SQLite, several Sanic workers or a Redis lock store, network latency, long
  conversations, the web console. Start-up for Rapport includes migrating a fresh store
  and starting the action server and web app beside Rasa; RSS is each Rasa server
  process alone (Rapport's action server and web app are listed separately).
"""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _verdict(met: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not judged"}[met]


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def _latency_row(label: str, summary: dict[str, Any], msg_per_s: str, errors: str) -> str:
    cells = [_ms(summary.get(f"p{p}_ms")) for p in (50, 95, 99)]
    return f"| {label} | {summary.get('n', 0)} | {' | '.join(cells)} | {msg_per_s} | {errors} |"


def _target_line(target: Target, value: float | None, met: bool | None) -> str:
    return f"- {target.name}: {_ratio(value)} (target {target.describe()}: {_verdict(met)})"


def _per_round(comparison: dict[str, Any]) -> str:
    pairs = [
        f"{_ratio(r['p50_profiling'])} / {_ratio(r['msg_per_s'])}" for r in comparison["per_round"]
    ]
    return "- per round (p50 profiling ratio / msg/s ratio): " + ", ".join(pairs)


def _by_turn(name: str, summary: dict[str, Any], messages: list[str]) -> str:
    pairs = zip(messages, summary.get("p50_by_turn_ms", []), strict=False)
    return f"- {name} p50 by turn: " + ", ".join(f'"{m}" {_ms(v)} ms' for m, v in pairs)


def _level_section(level: str, data: dict[str, Any], options: dict[str, Any]) -> str:
    rapport, starter, comparison = data["rapport"], data["starter"], data["comparison"]
    conversations = options["conversations"][level]
    ratios, targets = comparison["ratios"], comparison["targets"]
    lines = [
        f"## {level} concurrent shopper{'s' if level != '1' else ''}",
        "",
        f"{conversations} conversations of 5 turns per bot and round, {options['rounds']} rounds.",
        "",
        "| bot, turns | n | p50 ms | p95 ms | p99 ms | msg/s | failed turns |",
        "|---|---|---|---|---|---|---|",
        _latency_row(
            "Rapport, all turns", rapport["all"], f"{rapport['msg_per_s']:.1f}",
            str(rapport["errors"]),
        ),
        _latency_row("Rapport, profiling turns", rapport["profiling"], "-", "-"),
        _latency_row(
            "starter bot, all turns", starter["all"], f"{starter['msg_per_s']:.1f}",
            str(starter["errors"]),
        ),
        "",
        _target_line(LATENCY_TARGET, ratios["p50_profiling"], targets["latency"]),
        f"- p50 of all Rapport turns / starter p50: {_ratio(ratios['p50_all'])}",
        _target_line(THROUGHPUT_TARGET, ratios["msg_per_s"], targets["throughput"]),
        _per_round(comparison),
        _by_turn("Rapport", rapport, options["scripts"]["rapport"]["messages"]),
        _by_turn("starter", starter, options["scripts"]["starter"]["messages"]),
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def _verdict_table(results: dict[str, Any]) -> str:
    levels = results["levels"]
    header = " | ".join(f"{level} concurrent" for level in levels)
    lines = [f"| target | {header} |", "|---" * (len(levels) + 1) + "|"]
    for target, key, ratio_key in (
        (LATENCY_TARGET, "latency", "p50_profiling"),
        (THROUGHPUT_TARGET, "throughput", "msg_per_s"),
    ):
        cells = [
            f"{_ratio(level['comparison']['ratios'][ratio_key])} "
            f"{_verdict(level['comparison']['targets'][key])}"
            for level in levels.values()
        ]
        lines.append(f"| {target.name} {target.describe()} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _servers_section(servers: dict[str, Any]) -> str:
    lines = [
        "## Start-up and memory",
        "",
        "| process | start to first answer | RSS after start | RSS after bench | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, server in servers.items():
        before, after = server["memory_start"], server["memory_end"]
        lines.append(
            f"| {name} Rasa server | {server['startup_s']:.1f} s | {_mib(before.get('rss_kib'))}"
            f" | {_mib(after.get('rss_kib'))} | {_mib(after.get('peak_rss_kib'))} |"
        )
        for extra, memory in server.get("extra_memory_end", {}).items():
            lines.append(
                f"| {name} {extra} | - | - | {_mib(memory.get('rss_kib'))}"
                f" | {_mib(memory.get('peak_rss_kib'))} |"
            )
    return "\n".join([*lines, ""])


def _meta_section(results: dict[str, Any]) -> str:
    meta, options, starter = results["meta"], results["options"], results["starter_model"]
    trained = (
        f"trained in this run in {starter['train_s']:.0f} s"
        if starter["trained"]
        else "reused from the cache"
    )
    return "\n".join(
        [
            "## Machine and command",
            "",
            f"- date: {meta['date']}",
            f"- machine: {meta['nproc']} cores ({meta['cpu']}), {meta['memory_gib']:.1f} GiB"
            f" memory; Python {meta['python']}, Rasa {meta['rasa']}",
            "- command: `make bench` (trains Rapport's model when its data changed, then"
            f" `.venv/bin/python -m bench.run`); this run: `{options['command']}`",
            f"- warm-up: {options['warmup']} conversations per bot before measuring",
            f"- starter bot model: `{starter['path']}`, {trained}; delete that folder to retrain",
            f"- wall time of the whole bench: {meta['bench_s']:.0f} s; server logs of the last"
            " run: `var/bench/logs`",
            "",
        ]
    )


def _transcripts_section(transcripts: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["## What the bots answered (one conversation each, before warm-up)", ""]
    for name, turns in transcripts.items():
        lines.append(f"{name}:")
        lines.append("")
        for turn in turns:
            answer = " / ".join(turn["bot"]) or "(no answer)"
            lines.append(f"- shopper: {turn['shopper']}  \n  bot: {answer}")
        lines.append("")
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    """The whole docs/benchmarks.md for one bench run."""
    profiles = results["profiles"]
    sections = [
        "# Benchmarks: Rapport vs Rasa's starter bot",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. Raw figures:"
        " `var/bench/latest.json` (not committed).",
        "",
        "## Verdict (ratios Rapport / starter bot)",
        "",
        _verdict_table(results),
        "",
        f"All targets met: **{'yes' if results['all_met'] else 'no'}**.",
        "",
        _meta_section(results),
        *(
            _level_section(level, data, results["options"])
            for level, data in results["levels"].items()
        ),
        _servers_section(results["servers"]),
        "## Profiles written",
        "",
        f"{profiles['complete']} of {profiles['expected']} Rapport conversations (warm-up"
        " included) left a profile with all three answers in the store.",
        "",
        _transcripts_section(results.get("transcripts", {})),
        HOW_TO_READ,
    ]
    return "\n".join(sections)
