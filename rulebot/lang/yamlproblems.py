"""libyaml's parse errors in the author's words: what went wrong, and how to write it instead."""

from __future__ import annotations

# (words in libyaml's message, what the diagnostic says, the hint); ``{context_line}`` is the
# line where the construct libyaml was reading began.
YAML_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("mapping values are not allowed", "a ': ' where YAML does not expect a new key",
     "text that contains ': ' must be quoted, e.g. then: 'notify \"funding: high\"'"),
    ("found character '\\t'", "a tab character where YAML expects spaces", "indent with spaces, not tabs"),
    ("found a tab character", "a tab character where YAML expects spaces", "indent with spaces, not tabs"),
    ("did not find expected key", "this line does not line up with the keys above it",
     "check the indentation: keys of one mapping start in the same column"),
    ("could not find expected ':'", "a key without ':' after it", "write 'key: value', or quote the text"),
    ("did not find expected '-' indicator", "this line does not line up with the list items above it",
     "start each item of a list with '- ' in the same column"),
    ("expected <block end>", "this line does not line up with the lines above it",
     "check the indentation of this line"),
    ("found unexpected end of stream", "the file ends inside a quoted text", "close the quote"),
    ("found undefined alias", "an alias ('*name') with no anchor ('&name') before it",
     "define the anchor first, or write the value out"),
    ("expected a single document", "the file holds more than one YAML document",
     "remove the '---' line: a rule file is one document"),
    ("exceeded maximum nesting depth", "the file nests values too deeply", ""),
    ("expected ',' or ']'", "a list in '[ ]' is not closed, or lacks a ',' between items",
     "close the '[' of line {context_line} with ']'"),
    ("expected ',' or '}'", "a mapping in '{ }' is not closed, or lacks a ',' between entries",
     "close the '{' of line {context_line} with '}'"),
)
