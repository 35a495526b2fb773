"""A local data file reaches remote workers through the ClearML file server.

In ``remote`` mode the dataset step runs on a clearml-agent worker, which cannot read a
path on the launching machine. At launch, the file is uploaded once, content-addressed
(``<files server>/<project>/.tabpipe-uploads/<sha256[:16]>/<file name>``), and
``data.source`` becomes that URL; the dataset step fetches a local copy and records the
URL as the version's source. Cards (bundled datasets) need no upload.
"""
from __future__ import annotations

import logging
from pathlib import Path

from steps.config import PipelineConfig
from steps.data import file_sha256

log = logging.getLogger(__name__)
REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://", "azure://")


def is_remote(source: str) -> bool:
    return source.strip().lower().startswith(REMOTE_SCHEMES)


def upload_local_source(cfg: PipelineConfig) -> PipelineConfig:
    """``cfg`` with a local data file replaced by its uploaded URL (else unchanged)."""
    source = cfg.data.source.strip()
    path = Path(source).expanduser()
    if is_remote(source) or not path.is_file():
        return cfg  # a card, a URL, or a missing file (the dataset step reports that)
    from clearml import StorageManager
    from clearml.backend_api import Session

    files = Session.get_files_server_host().rstrip("/")
    url = f"{files}/{cfg.project.name}/.tabpipe-uploads/{file_sha256(path)[:16]}/{path.name}"
    log.info("uploading %s (%.1f MB) for remote workers: %s", path, path.stat().st_size / 1e6, url)
    StorageManager.upload_file(str(path), url, wait_for_upload=True)
    data = cfg.data.model_copy(update={"source": url, "dataset_name": cfg.data.dataset_name
                                       or path.stem})
    return cfg.model_copy(update={"data": data})


def local_copy(source: str) -> str:
    """A local path for an uploaded (URL) source; raises if it cannot be fetched."""
    from clearml import StorageManager

    path = StorageManager.get_local_copy(source, extract_archive=False)
    if not path:
        raise FileNotFoundError(f"could not fetch the data file {source} from the file server")
    return str(path)
