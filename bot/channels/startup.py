"""What every connector does once, when Rasa builds it: its share of the composition root.

Each connector's `blueprint()` calls `connector_services()` once and passes what it needs
from the result (settings, store, pseudonym key, linking) down explicitly: nothing is
looked up per message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.secret_files import private_process
from bot.channels.platform import apply_platform_fixes
from bot.config import load_settings

if TYPE_CHECKING:
    from bot.bootstrap import Services


def connector_services() -> Services:
    """The process's services (`bot.bootstrap.for_process`), after the start-up chores.

    Rasa's fixes are installed, and this process creates owner-only files before the
    composition root first creates any (the pseudonym key under var/, the SQLite store).
    """
    # Imported here: importing a connector (its tests) does not build or import the stack.
    from bot.bootstrap import for_process

    apply_platform_fixes()
    private_process(load_settings())
    return for_process()
