"""Run ibek 4.8.2 with its published-schema host replaced by a test server.

ibek fixes the release-asset URL to https://github.com; the pattern tests
serve base schemas from 127.0.0.1, so this wrapper rewrites the URL's host
from PATTERN_TEST_BASE_URL and then runs ibek's command line unchanged.
"""

import os
import sys

import ibek.pattern_cmds.schema as schema

_published = schema.published_schema_url
_base = os.environ.get("PATTERN_TEST_BASE_URL")
if _base:
    schema.published_schema_url = lambda image: _published(image).replace(
        "https://github.com", _base, 1
    )

from ibek.__main__ import cli  # noqa: E402

sys.argv[0] = "ibek"
cli()
