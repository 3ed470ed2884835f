"""What the loader's refusal tests share: the good extract and the check that a refused load leaves the live
warehouse byte for byte as it was (and no half-written ``.tmp`` beside it). Their fixtures, ``live_db`` and
``extract``, are in ``conftest.py``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipelines.ingest import IngestError, ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(extract: Path, db: Path) -> IngestError:
    """The error of loading ``extract`` into ``db``, after checking that the refusal left ``db``
    byte-identical and left no ``.tmp`` of its own beside it."""
    before = sha256(db)
    temporary = db.with_name(db.name + ".tmp")
    temporary_before = temporary.exists()  # a test may put something in the way on purpose
    with pytest.raises(IngestError) as caught:
        ingest(extract, db, run_models=False)
    assert sha256(db) == before, "a refused load must leave the live database byte-identical"
    assert temporary.exists() == temporary_before, "a refused load must leave no .tmp behind"
    return caught.value
