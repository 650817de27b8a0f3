"""Property-based tests of the pure path layer (hypothesis)."""

from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from tfm_jupyter import PureS3Path

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
any_component = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=12)
plain_component = any_component.filter(lambda c: c not in ("", ".", ".."))


@settings(max_examples=400)
@given(st.text(max_size=60))
def test_any_string_either_parses_or_raises_value_error(text):
    for candidate in (text, "s3://" + text):
        try:
            path = PureS3Path(candidate)
        except ValueError:
            continue
        assert str(path).startswith("s3://")


@settings(max_examples=400)
@given(buckets, st.lists(any_component, max_size=6))
def test_str_round_trips_for_every_key_s3_can_hold(bucket, parts):
    key = "/".join(parts)
    path = PureS3Path(f"s3://{bucket}/{key}")
    assert PureS3Path(str(path)) == path
    assert hash(PureS3Path(str(path))) == hash(path)


@settings(max_examples=300)
@given(buckets, st.lists(plain_component, min_size=1, max_size=6), st.lists(plain_component, max_size=4))
def test_joins_parents_and_relative_to_agree_with_pure_posix_path(bucket, base, tail):
    root = PureS3Path(f"s3://{bucket}/")
    path = root.joinpath(*base)
    posix = PurePosixPath(*base)
    assert path.key == str(posix)
    assert (path.name, path.stem, path.suffix, path.suffixes) == (posix.name, posix.stem, posix.suffix,
                                                                 posix.suffixes)
    assert path.parent.key == ("" if str(posix.parent) == "." else str(posix.parent))
    assert [p.key for p in path.parents] == [("" if str(p) == "." else str(p)) for p in posix.parents]
    joined = path.joinpath(*tail)
    assert joined.key == str(posix.joinpath(*tail))
    assert joined.relative_to(path) == PurePosixPath(*tail) if tail else PurePosixPath(".")
    assert joined.is_relative_to(path)
    assert path.match(posix.name) == posix.match(posix.name)  # a name may hold glob characters
