"""`python -m bench.run`: Rapport vs Rasa's starter bot over the REST webhook, in one run.

Starts both bots on 127.0.0.1, warms them up, then measures alternating rounds
(Rapport, starter, then starter, Rapport, ...) at concurrency 1 and at `--concurrent`.
Writes the raw results to var/bench/latest.json and the report to docs/benchmarks.md,
prints the verdict, and exits 0 whether or not the targets are met (it is a benchmark,
not a test); it exits 1 only when the bench itself could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.baseline import STARTER_SCRIPT, ensure_starter, rasa_version, start_starter
from bench.load import PhaseResult, Script, run_phase_sync
from bench.report import render
from bench.results import aggregate, all_met, compare
from bench.servers import BotServer, memory_kib, start_rapport, transcript

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"

RAPPORT_SCRIPT = Script(
    bot="rapport",
    messages=(
        "hi",
        "Yes, go ahead",
        "text me, email is too much",
        "no thanks",
        "weekly",
        "stress and focus",
    ),
    profiling=frozenset({2, 3, 4, 5}),
)
SCRIPTS = {"rapport": RAPPORT_SCRIPT, "starter": STARTER_SCRIPT}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--shoppers-single",
        type=int,
        default=20,
        help="conversations per bot and round at concurrency 1 (default 20)",
    )
    parser.add_argument(
        "--concurrent",
        type=int,
        default=10,
        help="shoppers talking at once in the concurrent phase (default 10)",
    )
    parser.add_argument(
        "--shoppers-concurrent",
        type=int,
        default=None,
        help="conversations per bot and round in the concurrent phase (default 4 x --concurrent)",
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating measurement rounds per bot (default 4)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="unmeasured conversations per bot before measuring (default 5)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="the Markdown report (default docs/benchmarks.md)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=VAR / "latest.json",
        help="the raw results (default var/bench/latest.json)",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="re-write --out from --json without measuring"
    )
    args = parser.parse_args(argv)
    if args.shoppers_concurrent is None:
        args.shoppers_concurrent = 4 * args.concurrent
    minimum = {"shoppers_single": 1, "concurrent": 2, "shoppers_concurrent": 1, "rounds": 1}
    for name, least in minimum.items():
        if getattr(args, name) < least:
            parser.error(f"--{name.replace('_', '-')} must be at least {least}")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def machine() -> dict[str, Any]:
    """What this run ran on: cores, memory, CPU model, Python and Rasa versions."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": total_kib / 1024**2,
        "cpu": cpu,
        "python": platform.python_version(),
        "rasa": rasa_version(),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def warm_up(servers: dict[str, BotServer], conversations: int, run_id: str) -> None:
    for name, server in servers.items():
        if conversations > 0:
            run_phase_sync(
                server.rasa_url,
                SCRIPTS[name],
                conversations=conversations,
                concurrency=1,
                sender_prefix=f"warmup-{run_id}-{name}",
            )


def round_order(round_index: int) -> list[str]:
    """A, B in even rounds and B, A in odd ones, so neither bot always goes first."""
    order = ["rapport", "starter"]
    return order if round_index % 2 == 0 else order[::-1]


def measure(
    servers: dict[str, BotServer], levels: dict[int, int], rounds: int, run_id: str
) -> dict[int, dict[str, list[PhaseResult]]]:
    """Every (concurrency, bot) pair's phases, measured in alternating rounds."""
    phases: dict[int, dict[str, list[PhaseResult]]] = {c: {n: [] for n in servers} for c in levels}
    for round_index in range(rounds):
        for concurrency, conversations in levels.items():
            for name in round_order(round_index):
                prefix = f"bench-{run_id}-r{round_index}-c{concurrency}-{name}"
                phase = run_phase_sync(
                    servers[name].rasa_url,
                    SCRIPTS[name],
                    conversations=conversations,
                    concurrency=concurrency,
                    sender_prefix=prefix,
                )
                phases[concurrency][name].append(phase)
                log(
                    f"round {round_index + 1}/{rounds} c={concurrency} {name}: "
                    f"{phase.msg_per_s:.1f} msg/s, {phase.errors} failed turns"
                )
    return phases


def memory_report(server: BotServer) -> dict[str, Any]:
    return {
        "memory_end": memory_kib(server.pid),
        "extra_memory_end": {name: memory_kib(pid) for name, pid in server.extra_pids.items()},
    }


def start_servers(workdir: Path, starter_project: Path) -> dict[str, BotServer]:
    """Rapport first, then the starter bot, each timed alone to its first answer."""
    servers: dict[str, BotServer] = {}
    try:
        log("starting Rapport (action server, Rasa, web app)")
        servers["rapport"] = start_rapport(workdir / "rapport")
        log(f"Rapport answered after {servers['rapport'].startup_s:.1f} s; starting starter bot")
        servers["starter"] = start_starter(starter_project, workdir)
        log(f"starter bot answered after {servers['starter'].startup_s:.1f} s")
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: dict[str, BotServer]) -> None:
    for server in servers.values():
        server.stop()


@dataclass
class Measured:
    """What was measured while the servers ran."""

    servers: dict[str, dict[str, Any]]
    transcripts: dict[str, list[dict[str, Any]]]
    phases: dict[int, dict[str, list[PhaseResult]]]
    complete_profiles: int


def measure_servers(
    servers: dict[str, BotServer], args: argparse.Namespace, levels: dict[int, int], run_id: str
) -> Measured:
    """Memory, one transcript per bot, warm-up, the measured rounds, then memory again."""
    info = {
        name: {"startup_s": s.startup_s, "memory_start": memory_kib(s.pid)}
        for name, s in servers.items()
    }
    transcripts = {
        name: transcript(s.rasa_url, SCRIPTS[name].messages, f"transcript-{run_id}-{name}")
        for name, s in servers.items()
    }
    log(f"warm-up: {args.warmup} conversations per bot")
    warm_up(servers, args.warmup, run_id)
    phases = measure(servers, levels, args.rounds, run_id)
    for name, server in servers.items():
        info[name].update(memory_report(server))
    count = servers["rapport"].count_profiles
    return Measured(info, transcripts, phases, count() if count else 0)


def by_level(phases: dict[int, dict[str, list[PhaseResult]]]) -> dict[str, dict[str, Any]]:
    """Pooled figures per bot and the Rapport/starter comparison, per concurrency level."""
    levels: dict[str, dict[str, Any]] = {}
    for concurrency, by_bot in phases.items():
        data: dict[str, Any] = {name: aggregate(runs) for name, runs in by_bot.items()}
        data["comparison"] = compare(data["rapport"], data["starter"])
        levels[str(concurrency)] = data
    return levels


def options(args: argparse.Namespace, levels: dict[int, int]) -> dict[str, Any]:
    return {
        "command": shlex.join(["python", "-m", "bench.run", *sys.argv[1:]]),
        "rounds": args.rounds,
        "warmup": args.warmup,
        "conversations": {str(c): n for c, n in levels.items()},
        "scripts": {
            name: {"messages": list(script.messages), "profiling": sorted(script.profiling)}
            for name, script in SCRIPTS.items()
        },
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run everything and return the results dictionary (also what latest.json holds)."""
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    log("checking the cached starter bot (var/bench/starter/)")
    project, trained = ensure_starter(VAR / "starter")
    train_s = time.monotonic() - started
    workdir = VAR / "logs"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    levels = {1: args.shoppers_single, args.concurrent: args.shoppers_concurrent}
    servers = start_servers(workdir, project)
    try:
        measured = measure_servers(servers, args, levels, run_id)
    finally:
        stop_servers(servers)
    level_results = by_level(measured.phases)
    return {
        "meta": {
            **machine(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "bench_s": time.monotonic() - started,
        },
        "options": options(args, levels),
        "transcripts": measured.transcripts,
        "starter_model": {
            "path": str(project.relative_to(ROOT)),
            "trained": trained,
            "train_s": train_s,
        },
        "servers": measured.servers,
        "levels": level_results,
        "profiles": {
            "expected": 1 + args.warmup + args.rounds * sum(levels.values()),
            "complete": measured.complete_profiles,
        },
        "all_met": all_met(level_results),
    }


def summary_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for level, data in results["levels"].items():
        ratios, targets = data["comparison"]["ratios"], data["comparison"]["targets"]
        lines.append(
            f"c={level}: Rapport profiling p50 {data['rapport']['profiling'].get('p50_ms', 0):.0f}"
            f" ms, starter p50 {data['starter']['all'].get('p50_ms', 0):.0f} ms,"
            f" ratio {ratios['p50_profiling'] or 0:.2f} (met: {targets['latency']});"
            f" msg/s {data['rapport']['msg_per_s']:.1f} vs {data['starter']['msg_per_s']:.1f},"
            f" ratio {ratios['msg_per_s'] or 0:.2f} (met: {targets['throughput']})"
        )
    lines.append(f"all targets met: {results['all_met']}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        results = json.loads(args.json.read_text())
    else:
        try:
            results = bench(args)
        except (RuntimeError, OSError, TimeoutError) as error:
            log(f"the bench could not run: {error}")
            return 1
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results))
    for line in summary_lines(results):
        log(line)
    log(f"wrote {args.out}" + ("" if args.render_only else f" and {args.json}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
