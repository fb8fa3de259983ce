"""Errors keep their fields across process boundaries (parsing runs in a process pool)."""

from __future__ import annotations

import pickle

from mediawatch.errors import FetchError, ParseError


def test_errors_round_trip_through_pickle() -> None:
    err = pickle.loads(pickle.dumps(FetchError("feed-a", "HTTP 429 (retry after 5 s)", url="http://x.example/",
                                               status=429, retry_after=5.0, transient=False)))
    assert isinstance(err, FetchError)
    assert (err.source_id, err.reason, err.url, err.status, err.retry_after) == (
        "feed-a", "HTTP 429 (retry after 5 s)", "http://x.example/", 429, 5.0)
    assert str(err) == "feed-a: HTTP 429 (retry after 5 s) (http://x.example/)"
    parse = pickle.loads(pickle.dumps(ParseError("feed-b", "not a feed (HTML returned)")))
    assert isinstance(parse, ParseError) and parse.reason == "not a feed (HTML returned)" and parse.url is None
