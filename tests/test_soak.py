"""16 threads mixing writes, reads, listings, deletes and copies on overlapping prefixes."""

import random

from conftest import run_threads
from tfm_jupyter import Path, clear_s3_cache

THREADS = 16
OPERATIONS = 250  # per thread: 4,000 in all, about 15 seconds against the local server


def test_concurrent_mixed_operations_stay_consistent(s3, root, bucket):
    shared = [root / "shared" / f"s{i}.txt" for i in range(12)]

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine = root / "shared" / f"own-{n}.txt"
        last_own: str | None = None
        for step in range(OPERATIONS):
            choice = rng.random()
            try:
                if choice < 0.25:
                    last_own = f"{n}:{step}"
                    mine.write_text(last_own)
                elif choice < 0.40:
                    rng.choice(shared).write_text(f"{n}:{step}")
                elif choice < 0.55:
                    names = {p.name for p in (root / "shared").iterdir()}
                    if last_own is not None:
                        assert mine.name in names  # our own write is visible in every listing after it
                elif choice < 0.70:
                    rng.choice(shared).unlink(missing_ok=True)
                elif choice < 0.80 and last_own is not None:
                    mine.copy(rng.choice(shared), progress=False)
                elif choice < 0.90:
                    rng.choice(shared).read_text()
                elif last_own is not None:
                    assert mine.read_text() == last_own  # every read after our own write sees it
                    assert mine.exists() and mine.stat().st_size == len(last_own)
            except FileNotFoundError:
                pass  # another thread deleted a shared key first: the one expected race
        if last_own is not None:
            assert Path(str(mine)).read_text() == last_own

    assert run_threads(worker, THREADS) == []
    cached = sorted((p.name, p.stat().st_size) for p in (root / "shared").iterdir())
    clear_s3_cache()
    fresh = sorted((p.name, p.stat().st_size) for p in (root / "shared").iterdir())
    truth = sorted((k.split("/")[-1], len(s3.body(bucket, k))) for k in s3.keys(bucket, "shared/"))
    assert cached == fresh == truth
