"""The located tree ``bounded_yaml.compose`` builds from the parser's events is the tree
PyYAML's own composer gives (values, nulls, positions, aliases, complex keys), and a
document it refuses is refused with PyYAML's own error."""

from __future__ import annotations

import pytest
import yaml

from ivr.errors import SourcePosition
from ivr.flow.bounded_yaml import YamlLimits, compose
from ivr.flow.located import Located, Map, Scalar, Seq

FILE = "flow.yaml"

DOCUMENTS = [
    "a: 1\nb: [x, y, {c: d}]\n",
    "empty:\ntilde: ~\nword: null\nTitle: Null\nUPPER: NULL\nquoted: 'null'\nstr: !!str ~\n",
    "tagged: !!null x\nbare: ! null\nnumber: 0\nyes: yes\n",
    "base: &b {k: v, list: [1, 2]}\nuse: *b\nagain: *b\nscalar: &s text\nsame: *s\n",
    "? [a, b]\n: complex\n? {k: v}\n: mapping key\nplain: value\n",
    "nodes:\n  menu:\n    choices:\n      1: a\n      '*': repeat\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "- 中文服务\n- 'quoted: colon'\n- \"escaped \\u00e9\"\n",
    "",
    "# only a comment\n",
    "---\njust: one\n...\n",
]

REFUSED = [
    "a: 1\n---\nb: 2\n",  # two documents
    "a: &x 1\nb: &x 2\n",  # an anchor twice
    "a: *nowhere\n",  # an alias to nothing
    "a: [1, 2\n",  # unclosed
    "a: b: c\n",  # bad mapping
    "key: *\n",  # an alias without a name
]


def reference(node: yaml.Node) -> Located:
    """The tree as the loader built it from PyYAML's node graph before it built it itself."""
    mark = node.start_mark
    pos = SourcePosition(FILE, mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        pairs = []
        for key, value in node.value:
            located_key = reference(key)
            if not isinstance(located_key, Scalar):
                located_key = Scalar("<complex key>", located_key.pos)
            pairs.append((located_key, reference(value)))
        return Map(tuple(pairs), pos)
    if isinstance(node, yaml.SequenceNode):
        return Seq(tuple(reference(item) for item in node.value), pos)
    return Scalar(str(node.value), pos, node.tag == "tag:yaml.org,2002:null")


def plain(value: Located) -> object:
    """A tree as nested tuples, comparable with ``==``."""
    if isinstance(value, Scalar):
        return ("scalar", value.value, value.is_null, value.pos)
    if isinstance(value, Seq):
        return ("seq", value.pos, tuple(plain(item) for item in value.items))
    return ("map", value.pos, tuple((plain(k), plain(v)) for k, v in value.pairs))


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yaml.CSafeLoader])
@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_tree_is_the_one_pyyamls_composer_gives(text: str, loader: type) -> None:
    node = yaml.compose(text, Loader=loader)
    built = compose(text, YamlLimits(), FILE)
    if node is None:
        assert built is None
    else:
        assert built is not None
        assert plain(built) == plain(reference(node))


def test_an_alias_stands_for_the_same_values_as_its_anchor() -> None:
    built = compose("base: &b {k: v}\nuse: *b\n", YamlLimits(), FILE)
    assert isinstance(built, Map)
    (_, base), (_, use) = built.pairs
    assert use is base  # shared, not copied: the tree is never changed


@pytest.mark.parametrize("text", REFUSED)
def test_a_refused_document_has_pyyamls_own_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as ours:
        compose(text, YamlLimits(), FILE)
    with pytest.raises(yaml.YAMLError) as theirs:
        yaml.compose(text, Loader=yaml.SafeLoader)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
