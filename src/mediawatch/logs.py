"""Logging set-up for the command line: quiet by default, structured (key=value or JSON lines).

Library code only calls ``logging.getLogger(__name__)`` and passes fields in ``extra={"fields": {...}}``;
only the CLI configures handlers. Both formats leave the ``user:password@`` of every URL out of a record's
message, fields and exception text (a traceback quotes what an exception says: often the address it failed on).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from mediawatch.normalize import redact_credentials


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [f"ts={ts}", f"level={record.levelname.lower()}", f"logger={record.name}", f"msg={_q(message(record))}"]
        for key, value in shown_fields(record).items():
            parts.append(f"{key}={_q(value)}")
        if record.exc_info:
            parts.append(f"exc={_q(redact_credentials(self.formatException(record.exc_info)))}")
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message(record),
            **shown_fields(record),
        }
        if record.exc_info:
            data["exc"] = redact_credentials(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


# what every LogRecord has; anything else on a record came from ``extra={...}``
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "fields", "taskName"}


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    """The record's own fields: ``extra={"fields": {...}}`` (our convention) and plain ``extra={...}`` keys
    (``extra={"url": …}`` in some of our modules, ``stamina.caused_by`` from stamina); empty values left out."""
    found = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES and not k.startswith("_")}
    found.update(getattr(record, "fields", None) or {})
    return {k: v for k, v in found.items() if v is not None and v != () and v != {} and v != []}


def message(record: logging.LogRecord) -> str:
    """The record's message as shown: without the ``user:password@`` of a URL in it."""
    return redact_credentials(record.getMessage())


def shown_fields(record: logging.LogRecord) -> dict[str, object]:
    """:func:`record_fields` as shown: without the ``user:password@`` of a URL in their text."""
    return {k: _redacted(v) for k, v in record_fields(record).items()}


def _redacted(value: object) -> object:
    """``value`` without the ``user:password@`` of a URL in it: numbers as they are, the items of a list, tuple
    or dict (stamina's ``stamina.args``) one by one, anything else as the text it is shown as."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if type(value) is list or type(value) is tuple:  # not a subclass (a named tuple is shown as its text)
        items = [_redacted(v) for v in value]
        return items if type(value) is list else tuple(items)
    if type(value) is dict:
        return {k: _redacted(v) for k, v in value.items()}
    return redact_credentials(str(value))


def _q(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n'):
        return text
    return json.dumps(text, ensure_ascii=False)


# third-party loggers held at WARNING even with -vv (their debug lines drown ours)
NOISY_LOGGERS = ("httpx", "httpcore", "trafilatura", "htmldate", "courlan", "sentence_transformers", "apscheduler",
                 "filelock", "asyncio", "alembic")  # alembic: seven "setup plugin" lines at INFO per process
RETRY_LOGGERS = ("stamina",)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")


class LoggingSettingError(ValueError):
    """An unknown log level or format; ``setting`` names it (``log_level`` or ``log_format``)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


def configure_logging(level: str = "WARNING", fmt: str = "text") -> None:
    """Raises LoggingSettingError for a level or format it does not know (case does not matter)."""
    level, fmt = level.strip().upper(), fmt.strip().lower()
    if level not in LEVELS:
        raise LoggingSettingError("log_level", f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise LoggingSettingError("log_format", f"unknown format {fmt!r}; use 'text' (key=value) or 'json'")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # stamina announces every scheduled retry at WARNING, without the URL in its message: retries are routine
    # (the final failure is reported with its source and URL), so they show from -v (INFO) on only
    for chatty in RETRY_LOGGERS:
        logging.getLogger(chatty).setLevel(root.level if root.level <= logging.INFO else logging.ERROR)
