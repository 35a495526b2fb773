"""Remote-mode data upload: only an existing local file is uploaded; cards and URLs pass."""
from pipelines import uploads
from steps.config import parse_config


def test_cards_urls_and_missing_files_are_left_alone(tmp_path):
    for source in ("hpc_data", "https://files.example/p/.tabpipe-uploads/ab/x.csv",
                   str(tmp_path / "absent.csv")):
        cfg = parse_config({"data": {"source": source, "target": "y"}})
        assert uploads.upload_local_source(cfg) is cfg  # no server contacted


def test_remote_sources_are_recognised():
    assert uploads.is_remote("s3://bucket/data.parquet")
    assert uploads.is_remote(" HTTPS://files/x.csv")
    assert not uploads.is_remote("data/x.csv") and not uploads.is_remote("hpc_data")
