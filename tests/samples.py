"""Where the real export samples live, and how tests use them.

The samples stay outside the repository. Tests look in `$COMMONPLACE_SAMPLES`, else in
`../shared/samples` beside the checkout. Where the folder is absent (a stranger's fresh clone) a
test that needs it is skipped with a message; under `CI=true` the absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def samples_dir() -> Path:
    configured = os.environ.get("COMMONPLACE_SAMPLES")
    path = Path(configured) if configured else REPO.parent / "shared" / "samples"
    if path.is_dir():
        return path
    message = (
        f"The real export samples are not at {path}. Set COMMONPLACE_SAMPLES to the folder "
        "holding them (readwise-markdown/, readwise-csv/, kindle/, omnivore/)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def sample(relative: str) -> bytes:
    """The bytes of one sample file, e.g. `sample("kindle/pt-br.txt")`."""
    path = samples_dir() / relative
    if not path.is_file():
        pytest.fail(f"Sample {relative} is missing from {path.parent}", pytrace=False)
    return path.read_bytes()


def sample_names(folder: str) -> list[str]:
    """Every file in one sample folder, as `folder/name`, for parametrising over all of them.

    Collected at import time, so it returns an empty list (not a skip) when the folder is
    absent; pair it with a test that calls `samples_dir()` so the absence is reported.
    """
    configured = os.environ.get("COMMONPLACE_SAMPLES")
    root = Path(configured) if configured else REPO.parent / "shared" / "samples"
    if not (root / folder).is_dir():
        return []
    return sorted(f"{folder}/{p.name}" for p in (root / folder).iterdir() if p.is_file())
