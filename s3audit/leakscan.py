"""The last gate before a shared report is written: does any original identifier remain?

:func:`find_leaks` searches a finished document for every original identifier (account ids,
ARNs, principal names, access keys, addresses — dotted and in ``ip-10-0-1-7`` host-name form —,
endpoint ids, bucket and key names, e-mails). It looks at the document as written (text *and*
attributes), with HTML entities and %-escapes decoded, and inside every ``data:`` URI: text
payloads (SVG images, JSON, HTML) are decoded and scanned; raster images (PNG, JPEG…) cannot be
read, so they count as a finding unless explicitly allowed (the report draws its plots as SVG
with text kept as text, so plot labels are scanned too).

Matching is case-insensitive on identifier boundaries (``10.0.1.7`` does not match inside
``10.0.1.70``; ``alice`` does not match inside ``malice``). Pseudonyms produced by the Redactor
are recognised as a whole and skipped, so a bucket really named ``bucket`` does not match inside the token
``bucket-1a2b3c4d``; a pseudonym equal to an original identifier is itself a finding.

Examples
--------
>>> find_leaks("<p>caller 10.0.1.7</p>", {"ip": ["10.0.1.7"]})[0].identifier
'10.0.1.7'
>>> find_leaks("<p>caller 10.0.1.70</p>", {"ip": ["10.0.1.7"]})
[]
"""
from __future__ import annotations

import base64
import binascii
import html
import logging
import re
import urllib.parse
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

__all__ = ["Leak", "LeakError", "find_leaks", "check_no_leaks"]

MIN_LENGTH = 3  # shorter identifiers cannot be told apart from ordinary text
_DATA_URI_RE = re.compile(r"data:([\w.+/-]+)((?:;[\w=.-]+)*),\s*([A-Za-z0-9+/=%._~:\s-]*)")
# a run of letters or digits, any script (a name without an ASCII letter is a name too)
_RUN_RE = re.compile(r"[^\W_]+")
_DIGITS_RE = re.compile(r"\d+")
_JSON_U_RE = re.compile(r"\\u([0-9a-fA-F]{4})")


@dataclass(frozen=True)
class Leak:
    """One original identifier found in a document.

    Attributes
    ----------
    kind : str
        ``account``, ``ip``, ``bucket``… or ``opaque-image`` / ``ambiguous-token``.
    identifier : str
        The original value found (this is sensitive: show it only to the report's author).
    where : str
        ``text``, ``attribute``, ``data-uri image/svg+xml`` …
    context : str
        A short excerpt around the finding.
    """

    kind: str
    identifier: str
    where: str
    context: str

    def __str__(self) -> str:
        return f"{self.kind} {self.identifier!r} in {self.where}: …{self.context}…"


class LeakError(RuntimeError):
    """The report was not written because original identifiers remain in it.

    Attributes
    ----------
    leaks : list of Leak
        Every finding (see :class:`Leak`).
    path : str or None
        The file that was *not* written.
    """

    def __init__(self, leaks: list[Leak], path: str | None = None) -> None:
        self.leaks = leaks
        self.path = path
        kinds = sorted({leak.kind for leak in leaks})
        shown = "; ".join(str(leak) for leak in leaks[:10])
        more = f" (+{len(leaks) - 10} more)" if len(leaks) > 10 else ""
        target = f" {path}" if path else ""
        super().__init__(f"refusing to write the shared report{target}: {len(leaks)} original "
                         f"identifier(s) remain ({', '.join(kinds)}): {shown}{more}")


def _expand(identifiers: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """identifier (lower case) -> kind; adds ``ip-a-b-c-d`` host-name forms of IPv4 addresses."""
    out: dict[str, str] = {}
    for kind, values in identifiers.items():
        for value in values:
            if not isinstance(value, str):
                continue
            value = value.strip()
            if len(value) < MIN_LENGTH or not _RUN_RE.search(value.lower()):
                continue
            out.setdefault(value.lower(), kind)
            if kind == "ip" and value.count(".") == 3:
                out.setdefault("-".join(value.split(".")).lower(), kind)
            if kind == "account" and len(value) == 12 and value.isdigit():  # the console's spelling
                out.setdefault(f"{value[:4]}-{value[4:8]}-{value[8:]}", kind)
    return out


class _Matcher:
    """Boundary-aware, case-insensitive multi-literal search indexed by the first alnum run.

    Pseudonyms are indexed too: a match of a pseudonym consumes its span (it is not a leak and
    hides nothing inside it), so an original that is part of a pseudonym is not reported.
    """

    def __init__(self, identifiers: dict[str, str], tokens: Iterable[str] = ()) -> None:
        self.kinds = identifiers
        self.index: dict[str, list[tuple[str, int, bool]]] = {}
        # identifiers made of digits only are found wherever digits end (see find)
        self.digits = {i for i in identifiers if i.isdigit()}
        for ident in identifiers:
            if ident not in self.digits:
                self._add(ident, False)
        for token in tokens:
            low = token.lower()
            if low not in identifiers:
                self._add(low, True)
        for entries in self.index.values():
            entries.sort(key=lambda e: -len(e[0]))

    def _add(self, ident: str, is_token: bool) -> None:
        first = _RUN_RE.search(ident)
        if first is not None:
            self.index.setdefault(first.group(0), []).append((ident, first.start(), is_token))

    def find(self, text: str) -> list[tuple[str, int]]:
        low = text.lower()
        found = []
        if self.digits:  # numbers (account ids) end at a non-digit: "acct111122223333" holds one
            for run in _DIGITS_RE.finditer(low):
                if run.group(0) in self.digits:
                    found.append((run.group(0), run.start()))
        last = 0
        for run in _RUN_RE.finditer(low):
            if run.start() < last:
                continue
            for ident, offset, is_token in self.index.get(run.group(0), ()):
                start = run.start() - offset
                if start < last or not low.startswith(ident, start):
                    continue
                end = start + len(ident)
                if start > 0 and low[start - 1].isalnum() or end < len(low) and low[end].isalnum():
                    continue
                if not is_token:
                    found.append((ident, start))
                last = end
                break
        return found


def _where(text: str, pos: int, label: str) -> str:
    if label != "document":
        return label
    lt, gt = text.rfind("<", 0, pos), text.rfind(">", 0, pos)
    return "attribute" if lt > gt else "text"


def find_leaks(document: str, identifiers: Mapping[str, Iterable[str]], *,
               tokens: Iterable[str] = (), exempt: Collection[str] = (),
               allow_raster: bool = False) -> list[Leak]:
    """Every original identifier still present in ``document``.

    Parameters
    ----------
    document : str
        The finished HTML (or any text).
    identifiers : mapping kind -> originals
        Usually ``Redactor.identifiers()``.
    tokens : iterable of str
        Pseudonyms that may legitimately appear (removed before matching).
    exempt : collection of str
        Identifiers not searched for in the document (e.g. ones that are also ordinary words of
        the report template; the caller checks them in the data instead).
    allow_raster : bool
        Accept raster images (they cannot be scanned).

    Returns
    -------
    list of Leak
        Empty when the document is clean.

    Examples
    --------
    >>> leaks = find_leaks('<img alt="by 111122223333">', {"account": ["111122223333"]})
    >>> leaks[0].kind, leaks[0].where
    ('account', 'attribute')
    """
    exempt_low = {e.lower() for e in exempt}
    idents = {k: v for k, v in _expand(identifiers).items() if k not in exempt_low}
    token_list = sorted({t for t in tokens if isinstance(t, str) and len(t) >= MIN_LENGTH},
                        key=len, reverse=True)
    leaks: list[Leak] = []
    for token in token_list:
        kind = idents.get(token.lower())
        if kind is not None:
            leaks.append(Leak("ambiguous-token", token, "pseudonym table",
                              f"a {kind} pseudonym equals an original {kind}"))
    if not idents:
        return leaks
    matcher = _Matcher(idents, token_list)
    seen: set[tuple[str, str]] = set()

    def scan(text: str, label: str) -> None:
        for layer in _layers(text):
            stripped = layer
            for ident, pos in matcher.find(stripped):
                where = _where(stripped, pos, label)
                if (ident, where) in seen:
                    continue
                seen.add((ident, where))
                ctx = stripped[max(0, pos - 40): pos + len(ident) + 40]
                leaks.append(Leak(matcher.kinds[ident], ident, where, " ".join(ctx.split())))

    def scan_data_uris(text: str, depth: int) -> None:
        for m in _DATA_URI_RE.finditer(html.unescape(text)):
            mime, params, payload = m.group(1).lower(), m.group(2).lower(), m.group(3)
            if ";base64" in params:
                try:
                    raw = base64.b64decode(urllib.parse.unquote(payload), validate=False)
                except (binascii.Error, ValueError):
                    leaks.append(Leak("opaque-data", mime, f"data-uri {mime}", "undecodable base64"))
                    continue
            else:
                raw = urllib.parse.unquote_to_bytes(payload)
            if mime.startswith("image/") and not mime.startswith("image/svg"):
                if not allow_raster:
                    leaks.append(Leak("opaque-image", mime, f"data-uri {mime}", f"a {len(raw)}-byte "
                                      "raster image cannot be checked for identifiers"))
                continue
            decoded = raw.decode("utf-8", errors="replace")
            scan(decoded, f"data-uri {mime}")
            if depth < 3:  # an SVG can embed images (matplotlib's imshow) and other documents
                scan_data_uris(decoded, depth + 1)

    scan(document, "document")
    scan_data_uris(document, 0)
    return leaks


def _layers(text: str) -> list[str]:
    """The text as written, with entities decoded, with %-escapes decoded (twice, for text
    encoded twice), and with JSON ``\\uXXXX`` escapes written as text decoded."""
    layers = [text]
    unescaped = html.unescape(text)
    if unescaped != text:
        layers.append(unescaped)
    current = unescaped
    for _ in range(2):
        if "%" not in current:
            break
        unquoted = urllib.parse.unquote(current)
        if unquoted == current:
            break
        layers.append(unquoted)
        current = unquoted
    if "\\u" in unescaped:
        decoded = _JSON_U_RE.sub(lambda m: chr(int(m.group(1), 16)), unescaped)
        if decoded != unescaped:
            layers.append(decoded)
    return layers


def check_no_leaks(document: str, identifiers: Mapping[str, Iterable[str]], *,
                   path: str | None = None, **options: object) -> None:
    """Raise :class:`LeakError` naming every finding of :func:`find_leaks`.

    Examples
    --------
    >>> check_no_leaks("<p>nothing here</p>", {"bucket": ["payroll-prod"]})
    >>> try:
    ...     check_no_leaks("<p>payroll-prod</p>", {"bucket": ["payroll-prod"]})
    ... except LeakError as exc:
    ...     print(exc.leaks[0].kind)
    bucket
    """
    leaks = find_leaks(document, identifiers, **options)  # type: ignore[arg-type]
    if leaks:
        raise LeakError(leaks, path)
