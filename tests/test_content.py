"""The one YAML loader: plain data with line numbers, merge keys, errors with file:line:col."""

from __future__ import annotations

import datetime
import gc

import pytest

from secops.content import Located, LocatedList, parse_yaml
from secops.errors import ContentError

TEXT = """\
base: &base
  role: server
  port: 22
items:
  - {name: a, <<: *base, port: 2222}
  - name: b
    <<: [*base]
    when: 2026-11-20
  - "quoted"
  - 7
  - null
  - yes
"""


def test_values_lines_and_merge_keys():
    doc = parse_yaml(TEXT, "x.yaml")
    assert isinstance(doc, Located) and doc.key_lines == {"base": 1, "items": 4}
    items = doc["items"]
    assert isinstance(items, LocatedList) and items.item_lines == [5, 6, 9, 10, 11, 12]
    a, b = items[0], items[1]
    assert a == {"role": "server", "port": 2222, "name": "a"}
    assert b == {"role": "server", "port": 22, "name": "b", "when": datetime.date(2026, 11, 20)}
    assert (a.file, a.line, a.column) == ("x.yaml", 5, 5)
    assert b.key_lines["when"] == 8 and b.where("name") == ("x.yaml", 6)
    assert items[2:] == ["quoted", 7, None, True]


def test_gc_restored_after_parse_and_after_errors():
    assert gc.isenabled()
    parse_yaml(TEXT)
    assert gc.isenabled()
    with pytest.raises(ContentError) as info:
        parse_yaml("a: [1, 2\nb: 3\n", "bad.yaml")
    assert gc.isenabled()
    assert str(info.value).startswith("bad.yaml:2:")
    gc.disable()
    try:
        parse_yaml(TEXT)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_rejects_tags_and_complex_keys():
    with pytest.raises(ContentError, match="unsupported tag"):
        parse_yaml("a: !!python/object {x: 1}\n")
    with pytest.raises(ContentError, match="mapping keys must be scalars") as info:
        parse_yaml("a:\n  ? [1, 2]\n  : x\n", "k.yaml")
    assert str(info.value).startswith("k.yaml:2:")
