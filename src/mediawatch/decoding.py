"""Bounded Content-Encoding decoding for the HTTP edge: a body never decompresses past the caller's limit,
so a gzip bomb costs at most the limit in memory."""

from __future__ import annotations

import zlib


class TruncatedStreamError(Exception):
    """A compressed stream ended before its end marker."""


class BoundedDecoder:
    """Incremental, *bounded* Content-Encoding decoder (identity, gzip incl. multi-member, deflate)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._fed = False
        self._raw_deflate_checked = False
        if encoding in ("", "identity"):
            self._inflate: zlib._Decompress | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported content encoding {encoding!r}")

    def feed(self, data: bytes, budget: int) -> bytes:
        """Decode ``data``; output beyond ``budget`` bytes is not produced (the caller is over its limit)."""
        if self._inflate is None:
            return data
        self._fed = self._fed or bool(data)
        if self.encoding == "deflate" and not self._raw_deflate_checked:
            self._raw_deflate_checked = True
            try:
                return self._decode(data, budget)
            except zlib.error:  # some servers send raw deflate without the zlib wrapper
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._decode(data, budget)

    def _decode(self, data: bytes, budget: int) -> bytes:
        assert self._inflate is not None
        out = bytearray()
        while data and len(out) < budget:
            out += self._inflate.decompress(data, budget - len(out))
            data = self._inflate.unconsumed_tail
            if self._inflate.eof:
                rest = self._inflate.unused_data + data
                if self.encoding in ("gzip", "x-gzip") and rest.startswith(b"\x1f\x8b"):
                    self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
                    data = rest
                else:
                    data = b""  # trailing garbage after the stream: ignored, as browsers do
        return bytes(out)

    def finish(self) -> bytes:
        if self._inflate is None or not self._fed:  # an empty body (204) may still name an encoding
            return b""
        tail = self._inflate.flush()
        if not self._inflate.eof:
            raise TruncatedStreamError(self.encoding)
        return tail
