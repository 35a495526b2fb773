"""Imported once by the warm forkserver (``pipelines.warm``), never by step code.

Loads ClearML's configuration (its packaged HOCON defaults plus ``clearml.conf``):
parsing it costs ~1.2 s, which every fresh step interpreter paid at ``Task.init``.
The forked steps inherit the parsed object; the server and keys come from the same
environment, so nothing differs from a fresh load. It also installs the SDK speed-ups
(``pipelines.sdk_speedups``) that every forked step then inherits.
"""
from clearml.config import ConfigSDKWrapper, ConfigWrapper

from pipelines.sdk_speedups import cache_request_validation

ConfigWrapper._init()
ConfigSDKWrapper._init()  # the SDK section is a separate lazy load
cache_request_validation()
