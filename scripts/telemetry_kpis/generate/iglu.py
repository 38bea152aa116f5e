"""JSON text as the Meltano CLI sends it: compact JSON, SHA-256 hashes, self-describing JSON.

Contexts and events are assembled as text rather than objects so that each piece is
serialised once and reused (see contexts.py); these helpers produce the exact bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CONTEXTS_HEAD = '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":['
UNSTRUCT_HEAD = (
    '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":'
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def sd(name: str, version: str, data_json: str) -> str:
    """A self-describing JSON text for com.meltano/<name>/<version> with pre-serialised data."""
    return '{"schema":"iglu:com.meltano/%s/jsonschema/%s","data":%s}' % (name, version, data_json)  # noqa: UP031
