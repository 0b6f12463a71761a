"""A small PromQL parser for offline rule lints (pint-style checks without a Go toolchain).

It covers the language the mixin uses: selectors, range/subquery selectors, offset/@, functions,
aggregations with by/without and parameters, binary operators with bool/on/ignoring/group_left/
group_right and Prometheus' precedence.  ``output_labels`` follows Prometheus' rules for which labels
survive an expression (engine.go resultMetric); promtool stays the authority on validity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from infrawatch.core.config import Duration

DURATION_RE = re.compile(r"(\d+(?:ms|[smhdwy]))+")


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0; raises ValueError on anything else (integers only, as PromQL has them;
    the units are core.config's)."""
    if not DURATION_RE.fullmatch(text):
        raise ValueError(f"bad duration {text!r}")
    return float(Duration.parse(text))


AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
}
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}
# Binary operator precedence, lowest first (Prometheus: or < and/unless < comparisons < +- < */% atan2 < ^).
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "unless": 2,
    **dict.fromkeys(COMPARISONS, 3),
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}
RIGHT_ASSOC = {"^"}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![\w.]))
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI]nf\b|NaN\b)
  | (?P<ident>[a-zA-Z_][a-zA-Z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){}\[\],:@])
""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    text: str
    pos: int


def tokenize(expr: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise SyntaxError(f"unexpected character {expr[pos]!r} at {pos} in {expr!r}")
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", pos))
    return tokens


@dataclass
class Node:
    def children(self) -> list[Node]:
        return []

    def walk(self):
        yield self
        for c in self.children():
            yield from c.walk()


@dataclass
class Number(Node):
    value: float


@dataclass
class String(Node):
    value: str


@dataclass
class Selector(Node):
    name: str | None
    matchers: list[tuple[str, str, str]]  # (label, op, value)
    range: float | None = None  # seconds, for matrix selectors


@dataclass
class Subquery(Node):
    expr: Node
    range: float

    def children(self):
        return [self.expr]


@dataclass
class Call(Node):
    func: str
    args: list[Node]

    def children(self):
        return self.args


@dataclass
class Aggregation(Node):
    op: str
    args: list[Node]
    grouping: list[str] = field(default_factory=list)
    without: bool = False
    has_grouping: bool = False

    def children(self):
        return self.args


@dataclass
class Binary(Node):
    op: str
    lhs: Node
    rhs: Node
    bool: bool = False
    on: list[str] | None = None
    ignoring: list[str] | None = None
    group: str | None = None  # "left" | "right"
    include: list[str] = field(default_factory=list)

    def children(self):
        return [self.lhs, self.rhs]


@dataclass
class Unary(Node):
    op: str
    expr: Node

    def children(self):
        return [self.expr]


@dataclass
class Paren(Node):
    expr: Node

    def children(self):
        return [self.expr]


class Parser:
    def __init__(self, expr: str):
        self.expr = expr
        self.tokens = tokenize(expr)
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.next()
        if t.text != text:
            raise SyntaxError(f"expected {text!r} at {t.pos}, got {t.text!r} in {self.expr!r}")
        return t

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek().kind != "eof":
            raise SyntaxError(f"unexpected {self.peek().text!r} at {self.peek().pos} in {self.expr!r}")
        return node

    def binop_at(self) -> str | None:
        t = self.peek()
        if t.kind == "op" and t.text in PRECEDENCE:
            return t.text
        if t.kind == "ident" and t.text.lower() in ("and", "or", "unless", "atan2"):
            return t.text.lower()
        return None

    def binary(self, min_prec: int) -> Node:
        """Precedence climbing; ``^`` is right-associative, everything else left-associative."""
        lhs = self.unary()
        while (op := self.binop_at()) is not None and PRECEDENCE[op] >= min_prec:
            self.next()
            node = Binary(op, lhs, Number(0))
            if self.peek().text == "bool":
                self.next()
                node.bool = True
            for kw in ("on", "ignoring"):
                if self.peek().text == kw:
                    self.next()
                    setattr(node, kw, self.label_list())
            if self.peek().text in ("group_left", "group_right"):
                node.group = self.next().text.removeprefix("group_")
                if self.peek().text == "(":
                    node.include = self.label_list()
            node.rhs = self.binary(PRECEDENCE[op] + (0 if op in RIGHT_ASSOC else 1))
            lhs = node
        return lhs

    def label_list(self) -> list[str]:
        self.expect("(")
        labels = []
        while self.peek().text != ")":
            labels.append(self.next().text)
            if self.peek().text == ",":
                self.next()
        self.expect(")")
        return labels

    def unary(self) -> Node:
        if self.peek().text in ("-", "+"):
            op = self.next().text
            return Unary(op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            t = self.peek()
            if t.text == "[":
                self.next()
                rng = parse_duration(self.next().text)
                if self.peek().text == ":":
                    self.next()
                    if self.peek().text != "]":
                        self.next()
                    self.expect("]")
                    node = Subquery(node, rng)
                else:
                    self.expect("]")
                    if not isinstance(node, Selector):
                        raise SyntaxError(f"range on a non-selector in {self.expr!r}")
                    node.range = rng
            elif t.text in ("offset", "@"):
                self.next()
                if self.peek().text == "-":
                    self.next()
                self.next()
                if self.peek().text == "(":  # @ start() / end()
                    self.expect("(")
                    self.expect(")")
            else:
                return node

    def primary(self) -> Node:
        t = self.next()
        if t.text == "(":
            inner = self.binary(0)
            self.expect(")")
            return Paren(inner)
        if t.kind == "number":
            return Number(float(t.text) if not t.text.startswith("0x") else int(t.text, 16))
        if t.kind == "duration":  # a bare duration is not valid PromQL outside brackets
            raise SyntaxError(f"unexpected duration {t.text!r} in {self.expr!r}")
        if t.kind == "string":
            return String(t.text[1:-1])
        if t.text == "{":
            return self.selector(None)
        if t.kind == "ident":
            if t.text in AGGREGATIONS and self.peek().text in ("(", "by", "without"):
                return self.aggregation(t.text)
            if self.peek().text == "(":
                self.next()
                args = []
                while self.peek().text != ")":
                    args.append(self.binary(0))
                    if self.peek().text == ",":
                        self.next()
                self.expect(")")
                return Call(t.text, args)
            if self.peek().text == "{":
                self.next()
                return self.selector(t.text)
            return Selector(t.text, [])
        raise SyntaxError(f"unexpected {t.text!r} at {t.pos} in {self.expr!r}")

    def selector(self, name: str | None) -> Selector:
        matchers = []
        while self.peek().text != "}":
            label = self.next().text
            op = self.next().text
            value = self.next()
            if value.kind != "string":
                raise SyntaxError(f"matcher value must be a string in {self.expr!r}")
            matchers.append((label, op, value.text[1:-1]))
            if self.peek().text == ",":
                self.next()
        self.expect("}")
        return Selector(name, matchers)

    def aggregation(self, op: str) -> Aggregation:
        node = Aggregation(op, [])

        def grouping():
            if self.peek().text in ("by", "without"):
                node.without = self.next().text == "without"
                node.grouping = self.label_list()
                node.has_grouping = True

        grouping()
        self.expect("(")
        while self.peek().text != ")":
            node.args.append(self.binary(0))
            if self.peek().text == ",":
                self.next()
        self.expect(")")
        grouping()
        return node


def parse(expr: str) -> Node:
    return Parser(expr).parse()


@dataclass(frozen=True)
class Labels:
    """Labels an expression's result may carry: ``known`` when the set is closed, otherwise every
    input series label except ``removed`` (plus ``added``)."""

    known: frozenset[str] | None = None
    removed: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()

    def may_have(self, label: str) -> bool:
        if self.known is not None:
            return label in self.known
        return label in self.added or label not in self.removed

    def surely_has(self, label: str) -> bool:
        return label in self.known if self.known is not None else label in self.added

    def keep(self, labels) -> Labels:
        keep = frozenset(labels)
        if self.known is not None:
            return Labels(known=self.known & keep)
        return Labels(known=keep)  # an open set restricted to `on(...)` labels

    def drop(self, labels) -> Labels:
        drop = frozenset(labels)
        if self.known is not None:
            return Labels(known=self.known - drop)
        return Labels(removed=self.removed | drop, added=self.added - drop)

    def add(self, labels) -> Labels:
        add = frozenset(labels)
        if self.known is not None:
            return Labels(known=self.known | add)
        return Labels(removed=self.removed - add, added=self.added | add)

    def union(self, other: Labels) -> Labels:
        if self.known is not None and other.known is not None:
            return Labels(known=self.known | other.known)
        return Labels(
            removed=(self.removed if self.known is None else frozenset())
            & (other.removed if other.known is None else frozenset()),
            added=frozenset(),
        )


SCALAR = Labels(known=frozenset())


def is_scalar(node: Node) -> bool:
    if isinstance(node, Number):
        return True
    if isinstance(node, Paren | Unary):
        return is_scalar(node.expr)
    if isinstance(node, Call):
        return node.func in ("time", "scalar", "pi") or (node.func in ("minute", "hour") and not node.args)
    if isinstance(node, Binary):
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


def output_labels(node: Node) -> Labels:
    """Which labels the result of ``node`` can have (Prometheus' label propagation rules)."""
    if isinstance(node, Number | String) or is_scalar(node):
        return SCALAR
    if isinstance(node, Selector):
        return Labels()
    if isinstance(node, Paren | Unary):
        return output_labels(node.expr)
    if isinstance(node, Subquery):
        return output_labels(node.expr)
    if isinstance(node, Aggregation):
        inner = output_labels(node.args[-1])
        if not node.has_grouping:
            base = SCALAR if node.op not in ("topk", "bottomk") else inner
        elif node.without:
            base = inner.drop(node.grouping)
        else:
            base = inner.keep(node.grouping) if node.op not in ("topk", "bottomk") else inner
        if node.op == "count_values" and isinstance(node.args[0], String):
            base = base.add([node.args[0].value])
        return base
    if isinstance(node, Call):
        if node.func in ("vector", "time", "scalar"):
            return SCALAR
        if node.func in ("absent", "absent_over_time"):
            sel = next((n for n in node.args[0].walk() if isinstance(n, Selector)), None)
            return Labels(known=frozenset(m[0] for m in (sel.matchers if sel else []) if m[1] == "="))
        if node.func in ("label_replace", "label_join") and len(node.args) >= 2:
            return output_labels(node.args[0]).add([node.args[1].value])
        if node.func == "histogram_quantile":
            return output_labels(node.args[1]).drop(["le"])
        vectors = [a for a in node.args if not isinstance(a, String | Number)]
        return output_labels(vectors[0]) if vectors else SCALAR
    if isinstance(node, Binary):
        lhs, rhs = output_labels(node.lhs), output_labels(node.rhs)
        if is_scalar(node.lhs):
            return rhs
        if is_scalar(node.rhs):
            return lhs
        if node.op in ("and", "unless"):
            return lhs
        if node.op == "or":
            return lhs.union(rhs)
        if node.group == "left":
            return lhs.add(node.include)
        if node.group == "right":
            return rhs.add(node.include)
        if node.on is not None:
            return lhs.keep(node.on)
        if node.ignoring:
            return lhs.drop(node.ignoring)
        return lhs
    raise TypeError(f"unknown node {node!r}")


def has_condition(node: Node) -> bool:
    """pint's alerts/comparison: does the alert expression filter anything (so it can stop firing)?"""
    if isinstance(node, Paren):
        return has_condition(node.expr)
    if isinstance(node, Binary):
        if node.op in COMPARISONS and not node.bool:
            return True
        if node.op in ("and", "unless"):
            return has_condition(node.lhs) or has_condition(node.rhs) or node.op == "and"
        if node.op == "or":
            return has_condition(node.lhs) and has_condition(node.rhs)
        return has_condition(node.lhs) or has_condition(node.rhs)
    if isinstance(node, Call):
        if node.func in ("absent", "absent_over_time"):
            return True
        return node.func in ("label_replace", "label_join") and has_condition(node.args[0])
    if isinstance(node, Aggregation):
        return has_condition(node.args[-1])
    return False


def selectors(node: Node) -> list[Selector]:
    return [n for n in node.walk() if isinstance(n, Selector)]


def metric_names(node: Node) -> set[str]:
    names = set()
    for s in selectors(node):
        if s.name:
            names.add(s.name)
        names.update(v for label, op, v in s.matchers if label == "__name__" and op == "=")
    return names
