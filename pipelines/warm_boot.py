"""Imported once by the warm forkserver (``pipelines.warm``), never by step code.

Loads ClearML's configuration (its packaged HOCON defaults plus ``clearml.conf``):
parsing it costs ~1.2 s, which every fresh step interpreter paid at ``Task.init``.
The forked steps inherit the parsed object; the server and keys come from the same
environment, so nothing differs from a fresh load. It also installs the SDK speed-ups
(``pipelines.sdk_speedups``) that every forked step then inherits.

Then it imports ``warm.BACKGROUND`` (the training, evaluation and plotting stack) in a
thread, so the forkserver serves the first steps ~1.5 s sooner. A fork must not copy a
module half-imported by that thread (the child would see a broken module, or wait forever
on an import lock whose owner does not exist there), so each import holds a lock that
``os.fork`` takes first: a fork waits for the current module, never for the whole list.
A child imports whatever is still missing itself, as a fresh interpreter would.
"""
import importlib
import logging
import os
import threading
import time

from clearml.config import ConfigSDKWrapper, ConfigWrapper

from pipelines import warm
from pipelines.sdk_speedups import install_all

ConfigWrapper._init()
ConfigSDKWrapper._init()  # the SDK section is a separate lazy load
install_all()

_between_imports = threading.Lock()
_fork = os.fork


def _fork_between_imports():
    with _between_imports:
        return _fork()


def _restore_fork() -> None:  # children fork as usual: their lock would guard nothing
    os.fork = _fork


def import_in_background(names: list[str]) -> threading.Thread:
    """Import ``names`` one by one in a daemon thread; forks wait between two imports."""
    def work():
        for name in names:
            with _between_imports:
                try:
                    importlib.import_module(name)
                except Exception:  # the step that needs it will raise the real error
                    logging.getLogger(__name__).exception("background import of %s", name)
            time.sleep(0.005)  # a lock is not fair: let a waiting fork take it
    os.fork = _fork_between_imports
    os.register_at_fork(after_in_child=_restore_fork)
    thread = threading.Thread(target=work, name="warm-imports", daemon=True)
    thread.start()
    return thread


if warm.switched_on(warm.BACKGROUND_SWITCH):
    import_in_background(warm.BACKGROUND)
