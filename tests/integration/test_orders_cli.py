"""`rapport orders import` and `rapport tokens create`, run as the installed command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.config import PROJECT_ROOT
from bot.services.tokens import token_hash, token_scope
from bot.store.migrate import upgrade
from bot.store.sql import SqlUnitOfWorkFactory, make_engine

RAPPORT = str(Path(sys.executable).with_name("rapport"))
DEMO_ORDERS = PROJECT_ROOT / "data" / "demo" / "orders.jsonl"
SUMMARY = re.compile(
    r"^(?P<created>\d+) created, (?P<known>\d+) already known, "
    r"(?P<invalid>\d+) invalid, (?P<flagged>\d+) flagged$"
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = make_engine(database_url)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


@pytest.fixture
def rapport(database_url: str, tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_VAR_DIR": str(tmp_path),
        "RASA_TELEMETRY_ENABLED": "false",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RAPPORT, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def order(order_id: str, customer_id: str = "c-1", **changes: Any) -> str:
    document = {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": "2026-01-10T10:00:00Z",
        "items": [{"sku": "S-1", "name": "Oxford Shirt", "category": "apparel/menswear/shirts"}],
        **changes,
    }
    return json.dumps(document)


def jsonl(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def summary(stdout: str) -> dict[str, int]:
    found = SUMMARY.match(stdout.strip().splitlines()[-1])
    assert found, stdout
    return {name: int(count) for name, count in found.groupdict().items()}


def test_import_prints_a_summary(rapport: Any, tmp_path: Path) -> None:
    done = rapport("orders", "import", jsonl(tmp_path, order("o-1"), "", order("o-2", "c-2")))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2 created, 0 already known, 0 invalid, 0 flagged"


def test_a_second_import_changes_nothing(rapport: Any, tmp_path: Path) -> None:
    path = jsonl(tmp_path, order("o-1"), order("o-2", "c-2"))
    rapport("orders", "import", path)
    before = rapport("profiles", "export").stdout

    again = rapport("orders", "import", path)

    assert again.returncode == 0
    assert again.stdout.strip() == "0 created, 2 already known, 0 invalid, 0 flagged"
    assert rapport("profiles", "export").stdout == before
    people = [json.loads(line) for line in before.splitlines()]
    assert sorted(p["identities"][0]["external_id"] for p in people) == ["c-1", "c-2"]


def test_an_invalid_line_exits_1_and_the_valid_lines_are_kept(
    rapport: Any, tmp_path: Path, store: SqlUnitOfWorkFactory
) -> None:
    path = jsonl(
        tmp_path,
        order("o-1"),
        "{not json",
        order("o-3", ordered_at="2026-01-10T10:00:00"),
        order("o-4"),
    )

    done = rapport("orders", "import", path)

    assert done.returncode == 1
    assert done.stdout.strip() == "2 created, 0 already known, 2 invalid, 0 flagged"
    assert "line 2: not JSON" in done.stderr
    assert re.search(r"^line 3: ordered_at: .*timezone", done.stderr, re.MULTILINE)
    with store() as uow:
        assert uow.orders.exists(order_id="o-1") and uow.orders.exists(order_id="o-4")
        assert not uow.orders.exists(order_id="o-3")


def test_a_line_that_is_not_utf8_is_invalid(rapport: Any, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_bytes(order("o-1").encode() + b"\n\xff\xfe{}\n")

    done = rapport("orders", "import", str(path))

    assert done.returncode == 1
    assert "line 2: not UTF-8" in done.stderr
    assert summary(done.stdout) == {"created": 1, "known": 0, "invalid": 1, "flagged": 0}


def test_a_missing_file_is_reported(rapport: Any, tmp_path: Path) -> None:
    done = rapport("orders", "import", str(tmp_path / "nowhere.jsonl"))

    assert done.returncode == 2
    assert "cannot read" in done.stderr


def test_the_demo_orders_import_cleanly_with_a_flag(rapport: Any) -> None:
    done = rapport("orders", "import", str(DEMO_ORDERS))

    assert done.returncode == 0, done.stderr
    counts = summary(done.stdout)
    assert counts["invalid"] == 0
    assert counts["created"] >= 10
    assert counts["flagged"] >= 1
    shown = json.loads(rapport("profiles", "show", "shop:c-1001").stdout)
    assert shown["identities"] == [{"channel": "shop", "external_id": "c-1001"}]


def test_tokens_create_prints_a_token_that_is_stored_only_as_a_hash(
    rapport: Any, store: SqlUnitOfWorkFactory, database_url: str
) -> None:
    done = rapport("tokens", "create", "--scope", "orders")

    assert done.returncode == 0, done.stderr
    (token,) = done.stdout.split()
    assert len(token) >= 40
    assert token_scope(store, token) == "orders"
    database = Path(database_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert token.encode() not in raw
    assert token_hash(token).encode() in raw


def test_tokens_create_refuses_an_unknown_scope(rapport: Any) -> None:
    done = rapport("tokens", "create", "--scope", "admin")

    assert done.returncode == 1
    assert "allowed: orders" in done.stderr
    assert done.stdout == ""
