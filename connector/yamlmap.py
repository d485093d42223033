"""YAML loading that remembers where every value came from.

The policy is validated after loading; to name the file and line of an error, the
loader keeps a map from each path in the document (``("plans", "b2b", 0, "after")``)
to the line it starts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from connector.errors import ConfigError

PathKey = tuple[str | int, ...]


class LocatedDocument:
    """A parsed YAML document with the line of every mapping key and list item."""

    def __init__(self, file: str, data: Any, lines: dict[PathKey, int]):
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest part of ``path`` the document has."""
        key: PathKey = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def error(self, path: Sequence[str | int], message: str) -> ConfigError:
        """A ConfigError pointing at ``path``."""
        return ConfigError(message, file=self.file, line=self.line_of(path))


def load_located(path: Path) -> LocatedDocument:
    """Parse one YAML file, or raise ConfigError with the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    return parse_located(text, str(path))


def parse_located(text: str, file: str) -> LocatedDocument:
    """Parse YAML text, or raise ConfigError with the file and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.reader.ReaderError as exc:
        # A control character: PyYAML gives only an offset, the reader wants a line.
        line = text.count("\n", 0, exc.position) + 1
        message = f"character {exc.character!r} is not allowed in a YAML file"
        raise ConfigError(message, file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=file) from None
    if node is None:
        raise ConfigError("the file is empty", file=file, line=1)
    lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
    data = _build(node, (), lines, file)
    return LocatedDocument(file, data, lines)


# PyYAML's words for common mistakes, with what they mean to someone editing a file.
_PLAIN_WORDS = (
    (
        "mapping values are not allowed",
        "check the indentation of this line, and put quotes around a value"
        " that contains ': '",
    ),
    ("cannot start any token", "indent with spaces, not tabs"),
    ("could not find expected ':'", "a key needs a ':' after it"),
    ("expected <block end>", "this line is indented differently from the ones above"),
)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or exc.context or "invalid YAML"
    opened = exc.context_mark
    context = exc.context or ""
    if opened is not None and line is not None and opened.line + 1 < line:
        # An unclosed bracket or quote is noticed lines later; the line to fix is
        # the one where it was opened.
        if context.startswith("while parsing a flow"):
            message = (
                "YAML syntax error: a '{' or '[' opened on this line is not closed"
                f" (or a ',' is missing); the file cannot be read at line {line}"
            )
            return ConfigError(message, file=file, line=opened.line + 1)
        if context.startswith("while scanning a quoted"):
            message = "YAML syntax error: a quote opened on this line is not closed"
            return ConfigError(message, file=file, line=opened.line + 1)
    hint = next((words for key, words in _PLAIN_WORDS if key in problem), None)
    message = f"YAML syntax error: {problem}" + (f" ({hint})" if hint else "")
    return ConfigError(message, file=file, line=line)


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, file)
            child = (*path, key)
            if key in result:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"duplicate key {key!r}", file=file, line=line)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _build(value_node, child, lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, lines, file))
        return items
    return _scalar(node, file)


def _scalar(node: yaml.Node, file: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        line = node.start_mark.line + 1
        raise ConfigError("a key must be a plain value", file=file, line=line)
    if node.tag == "tag:yaml.org,2002:float":
        # Money in a policy must never pass through a float: 5.00 stays 5.00.
        try:
            return Decimal(node.value.replace("_", ""))
        except InvalidOperation:
            pass
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        line = node.start_mark.line + 1
        raise ConfigError(f"bad value: {exc.problem}", file=file, line=line) from None
    finally:
        loader.dispose()
