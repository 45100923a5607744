"""Looking things up by name: one spelling rule and one helpful error for every catalog.

Activations, initialisers, losses, optimisers and metrics are all chosen by strings. Lookup
ignores case, '_', '-' and spaces ("LeakyReLU" = "leaky_relu"); an unknown name is an error that
suggests the closest spellings and lists every valid name; an unknown parameter is an error that
lists the accepted ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

_T = TypeVar("_T")


def normalize(name: str) -> str:
    """The lookup key of a name: lower case without '_', '-' or spaces."""
    return "".join(ch for ch in name.lower() if ch not in "_- ")


class NameIndex:
    """Canonical names and their aliases, looked up by ``normalize``d spelling.

    >>> index = NameIndex("activation")
    >>> index.add("leaky_relu", aliases=("lrelu",))
    >>> index.resolve("LeakyReLU")
    'leaky_relu'
    """

    def __init__(self, kind: str, error: type[Exception] = ValueError, advice: str = "") -> None:
        self.kind = kind
        self.error = error
        self.advice = advice
        self._canonical: dict[str, None] = {}  # ordered set of canonical names
        self._lookup: dict[str, str] = {}  # normalised spelling -> canonical name
        self._spellings: dict[str, str] = {}  # normalised spelling -> spelling as written

    def add(self, name: str, aliases: Iterable[str] = (), replace: bool = False) -> None:
        """Register ``name`` and its aliases; a spelling taken by another name is an error."""
        spellings = [name, *aliases]
        if not replace:
            for spelling in spellings:
                taken = self._lookup.get(normalize(spelling))
                if taken is not None:
                    raise ValueError(
                        f"the name {spelling!r} is taken by {self.kind} {taken!r}; "
                        "pass replace=True to overwrite it"
                    )
        elif name in self._canonical:
            self.remove(name)
        self._canonical[name] = None
        for spelling in spellings:
            self._lookup[normalize(spelling)] = name
            self._spellings[normalize(spelling)] = spelling

    def remove(self, name: str) -> str:
        """Forget a name and its aliases; returns the canonical name removed."""
        canonical = self.resolve(name)
        del self._canonical[canonical]
        for key in [k for k, v in self._lookup.items() if v == canonical]:
            del self._lookup[key]
            del self._spellings[key]
        return canonical

    def names(self) -> list[str]:
        """The canonical names, in the order they were added."""
        return list(self._canonical)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize(name) in self._lookup

    def resolve(self, name: str) -> str:
        """The canonical name for ``name``, or ``self.error`` with suggestions and the list."""
        key = normalize(name)
        if key in self._lookup:
            return self._lookup[key]
        import difflib  # only when a name is wrong

        # a name that starts another ('he' → 'he_normal', 'he_uniform'), then close spellings
        starting = sorted(k for k in self._lookup if len(key) >= 2 and k.startswith(key))
        close = starting or difflib.get_close_matches(key, list(self._lookup), n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(self._spellings[c] for c in close))[:4]
        hint = f"did you mean {', '.join(map(repr, suggestions))}? " if suggestions else ""
        raise self.error(
            f"unknown {self.kind} {name!r}; {hint}valid names: {', '.join(self.names())}"
            f"{self.advice}"
        )


def accepted_parameters(function: Callable[..., Any]) -> list[str]:
    """The keyword parameters ``function`` (a class: its ``__init__``) accepts, ``self`` aside.

    Read once per function (``inspect.signature`` costs ~50 µs, and a loss asks for its
    log-softmax by name with its axis on every eager step); a copy of the list is returned."""
    try:
        return list(_cached_parameters(function))
    except TypeError:  # an unhashable callable: read it every time
        return list(_read_parameters(function))


def _read_parameters(function: Callable[..., Any]) -> tuple[str, ...]:
    target = function
    if isinstance(function, type):
        klass: Any = function  # mypy refuses __init__ read from a class object
        target = klass.__init__
    import inspect  # imported on use: it is slow to import

    return tuple(p for p in inspect.signature(target).parameters if p != "self")


_cached_parameters = functools.lru_cache(maxsize=1024)(_read_parameters)


def check_parameters(owner: str, accepted: list[str], params: dict[str, Any]) -> None:
    """Raise a TypeError naming the accepted parameters if ``params`` has any other."""
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TypeError(
            f"{owner} has no parameter {', '.join(unknown)}; "
            f"its parameters are: {', '.join(accepted) or 'none'}"
        )


def returned_as_is(given: _T, params: dict[str, Any], kind: str, what: str = "an object") -> _T:
    """What a catalog's ``get`` does with an object passed instead of a name: return it as it
    is, and refuse parameters, which only a name can be built with.

    ``kind`` names a name of the catalog with its article ("an activation"), ``what`` the
    object ("an object", "a function").
    """
    if params:
        raise TypeError(f"parameters can only be given with {kind} name, not {what}")
    return given


def not_a_name(expected: str, given: object) -> TypeError:
    """The error for a ``get`` argument of the wrong kind: "<expected>, not <its type>"."""
    return TypeError(f"{expected}, not {type(given).__name__}")


# The names other libraries use for a parameter chainrule calls otherwise.
KNOWN_SYNONYMS = {
    "kernel_initializer": "kernel_init",
    "bias_initializer": "bias_init",
    "input_shape": "input_dim",
}


def suggest_keyword(owner: str, accepted: list[str], given: str) -> str:
    """``owner`` has no parameter ``given``: the message, with the closest accepted name."""
    import difflib  # imported on use

    close = (
        [KNOWN_SYNONYMS[given]]
        if KNOWN_SYNONYMS.get(given) in accepted
        else (difflib.get_close_matches(given, accepted, n=1, cutoff=0.6))
    )
    hint = f" (did you mean {close[0]}=?)" if close else ""
    return f"{owner} has no parameter {given!r}{hint}; its parameters are: {', '.join(accepted)}"


def with_keyword_suggestions(init: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a class's ``__init__`` so that an unknown keyword gets a did-you-mean TypeError
    (``Dense(3, kernel_initializer=...)`` → "did you mean kernel_init=?")."""
    import functools

    accepted: list[str] = []  # read from the signature once, on the first keyword call

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            if not accepted:
                import inspect

                parameters = inspect.signature(init).parameters.values()
                if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
                    accepted.append("**")
                accepted.extend(p.name for p in parameters if p.name != "self")
            if "**" not in accepted:
                for key in kwargs:
                    if key not in accepted:
                        raise TypeError(suggest_keyword(type(self).__name__, accepted, key))
        init(self, *args, **kwargs)

    return checked


__all__ = [
    "accepted_parameters",
    "check_parameters",
    "KNOWN_SYNONYMS",
    "NameIndex",
    "normalize",
    "not_a_name",
    "returned_as_is",
    "suggest_keyword",
    "with_keyword_suggestions",
]
