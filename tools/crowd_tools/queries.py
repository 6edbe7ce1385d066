"""Query text the tools send: the typical queries against the demo population, and
helpers to build and measure query text."""
from __future__ import annotations

import re

# The typical demo-population queries (name, query): measured by tools/measure_counts.py and in the
# capacity report's latency tables.
TYPICAL = [
    ("1 tag", "gender:female"),
    ("2-term dense", "gender:female AND age:25-29"),
    ("2-term sparse", "member:brand_x AND aipl:brand_x:L"),
    ("3-term mixed", "gender:female AND power:high AND 兴趣:美妆"),
    ("and-not", "兴趣:美妆 AND NOT member:brand_x AND NOT aipl:brand_x:A"),
    ("5-term", "(gender:female AND age:25-29 AND tier:1) OR (student:yes AND NOT power:low)"),
    ("8-term", "gender:female AND (age:25-29 OR age:30-34) AND (tier:1 OR tier:2) AND power:high "
               "AND NOT member:brand_x AND platform:promo_sensitive"),
    ("prefix", "aipl:brand_x:* AND gender:female"),
    ("category prefix", "cat:1003774:* AND NOT gender:male"),
]

_SPECIAL = set('()"&|!*,@<>=')
_KEYWORDS = ("AND", "OR", "NOT", "ALL", "BETWEEN")


def quote_tag(tag: str) -> str:
    """A tag as query text: bare when the grammar allows it, else quoted."""
    if not tag or tag.upper() in _KEYWORDS or any(c in _SPECIAL or c.isspace() for c in tag):
        return '"' + tag.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return tag


def count_terms(q: str) -> int:
    """Tag terms in query text (operators and parentheses not counted)."""
    return len([w for w in re.split(r"[\s()]+", q) if w and w.upper() not in ("AND", "OR", "NOT", "&", "|", "!")])
