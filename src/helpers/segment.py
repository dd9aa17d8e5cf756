"""Word segmentation for the reports: jieba plus the domain lexicon, with lexicon terms kept whole.

jieba can still split a user-dictionary word when its DAG or HMM prefers another path, and it never
joins across punctuation or digits (双随机、一公开, 互联网+监管, 12345). So :class:`Segmenter` first
marks every lexicon term of ``protect_min_len`` or more characters with a leftmost-longest
Aho-Corasick scan (linear in the text), emits those as single tokens, and lets jieba segment only
the gaps between them. Shorter lexicon entries go into jieba's dictionary, where context decides.

Segmentation is a partition: ``"".join(seg.cut(text)) == text`` (whitespace and punctuation are
tokens too; helpers.terms drops them). Each sentence is segmented once, by
:func:`segment_sentences`, and every table in helpers.terms is computed from that token table.

>>> seg = Segmenter()
>>> seg.cut("全面推行行政执法“三项制度”,落实“双随机、一公开”监管")
['全面推行', '行政执法', '“', '三项制度', '”', ',', '落实', '“', '双随机、一公开', '”', '监管']
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from itertools import chain
from pathlib import Path
from typing import Iterable

import ahocorasick
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import config, schema


# Builds of jieba, fastest first. All run jieba's algorithm on jieba's dictionary and give its
# tokens (a test compares them on the sample reports): jieba_next computes the word graph in Rust
# (wheels for the usual platforms), jieba_fast in C (built from source: needs a compiler).
ENGINES = ("jieba_next", "jieba_fast", "jieba")
# The part-of-speech tagger of helpers.quantities: jieba_next's posseg tags by the HMM alone
# where jieba's consults the dictionary first, so it is not one of them.
TAGGER_ENGINES = ("jieba_fast", "jieba")


def load_jieba(engines: tuple[str, ...] = ENGINES):
    """The jieba module to segment with: the first of ``engines`` that is installed (plain
    ``jieba``, a dependency, at the end), or the one ``$FAZHI_JIEBA`` names (``jieba`` for plain
    jieba, e.g. to compare).

    >>> load_jieba(("jieba",)).__name__
    'jieba'
    """
    import importlib
    import os

    wanted = os.environ.get("FAZHI_JIEBA", "").strip().lower()
    for name in ((wanted,) if wanted in engines else engines) + ("jieba",):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        logging.getLogger(name).setLevel(logging.WARNING)  # dictionary-loading chatter
        return module
    raise ImportError("jieba is not installed")


jieba = load_jieba()


@functools.lru_cache(maxsize=1)
def _main_dictionary() -> tuple[dict, float]:
    """jieba's main dictionary (word -> frequency, total), loaded once per process."""
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def new_tokenizer(module=None):
    """A private ``Tokenizer`` of ``module`` (default: the segmenting engine, ``jieba``) with the
    main dictionary already in it: a copy of the one loaded by :func:`_main_dictionary` (a copy
    takes milliseconds, a load about half a second), so the segmenter and the part-of-speech
    tagger of helpers.quantities load it once between them. Words added to it stay in it; the
    module's global ``dt`` is untouched.

    >>> new_tokenizer().lcut("行政复议") == new_tokenizer().lcut("行政复议")
    True
    """
    freq, total = _main_dictionary()
    tokenizer = (module or jieba).Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(freq), total, True
    return tokenizer


def add_words(tokenizer, entries: Iterable[tuple[str, int | None, str | None]]) -> None:
    """``tokenizer.add_word`` for each (word, freq, tag), a missing frequency being the one jieba
    suggests for keeping the word whole, as ``add_word`` would compute it.

    The suggestion is computed by a plain-jieba view of the same dictionary: jieba_next would
    rebuild its Rust word index for each word (a minute for the lexicon), and every build gives
    the same number.
    """
    import jieba as plain

    view = plain.Tokenizer()
    view.FREQ, view.initialized = tokenizer.FREQ, True  # the same dict: it sees every word added
    for word, freq, tag in entries:
        view.total = tokenizer.total
        tokenizer.add_word(word, view.suggest_freq(word, False) if freq is None else freq, tag)



LEXICON_FILE = config.PACKAGE_DATA / "lexicon.txt"
# Terms this long or longer are protected; shorter ones are left to jieba's dictionary, because a
# two-character term can straddle a real word boundary (依法规定 holds 法规 but means 依法/规定).
PROTECT_MIN_LEN = 3
# Columns segment_sentences adds to schema.TOKENS: the token's span within its sentence's text.
TOKEN_SPAN_COLUMNS = ["start", "end"]
# Quoted phrases of this many characters are candidate terms for split_terms (slogans and named
# policies are usually quoted in the genre: “放管服”, “谁执法谁普法”).
QUOTED_TERM = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\s]{2,12})[”\"」』’]")
COLUMNS_SPLIT_TERMS = ["term", "source", "n_occurrences", "n_split", "n_by_lexicon", "n_documents",
                       "example", "sentence"]
_CJK = re.compile(r"[\u3400-\u9fff]")
_PUNCT_ONLY = re.compile(r"[\W_]+")

# jieba logs its dictionary loading to stderr at DEBUG level; keep that out of notebooks and tests.
logging.getLogger("jieba").setLevel(logging.WARNING)


def read_lexicon(path: str | Path | None = None) -> pd.DataFrame:
    """Read a jieba user dictionary (``word [freq] [tag]`` a line, ``#`` comments) into a table.

    Columns: word, freq (``<NA>`` when not given), tag. A malformed line raises ``ValueError``
    naming the file and line.

    >>> lex = read_lexicon()
    >>> "习近平法治思想" in set(lex.word)
    True
    """
    path = Path(path) if path else LEXICON_FILE
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        word, freq, tag = fields[0], None, ""
        rest = fields[1:]
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
        if rest and re.fullmatch(r"[a-z]+", rest[0]):
            tag = rest.pop(0)
        if rest:
            raise ValueError(f"{path}:{lineno}: expected 'word [freq] [tag]', got {line!r}")
        rows.append((word, freq, tag))
    lex = pd.DataFrame(rows, columns=["word", "freq", "tag"]).astype({"freq": "Int64"})
    return lex.drop_duplicates("word", keep="last").reset_index(drop=True)


class Segmenter:
    """jieba with a domain lexicon on its own ``jieba.Tokenizer`` (the global one is untouched).

    ``lexicon``: a user-dictionary path, a list of words, or None for the packaged lexicon.
    ``protect_min_len``: lexicon terms at least this long always come out whole.
    ``hmm``: let jieba's HMM guess words missing from every dictionary.

    >>> Segmenter(["枫桥经验"]).cut("坚持和发展新时代枫桥经验")
    ['坚持', '和', '发展', '新', '时代', '枫桥经验']
    """

    def __init__(self, lexicon: str | Path | Iterable[str] | None = None, *, hmm: bool = True,
                 protect_min_len: int = PROTECT_MIN_LEN) -> None:
        if lexicon is None or isinstance(lexicon, (str, Path)):
            entries = read_lexicon(lexicon)
        else:
            entries = pd.DataFrame({"word": list(dict.fromkeys(lexicon)), "freq": pd.NA, "tag": ""})
        self.hmm = hmm
        self.protect_min_len = protect_min_len
        self.lexicon = frozenset(entries["word"])
        self.tokenizer = new_tokenizer()
        add_words(self.tokenizer, ((word, None if pd.isna(freq) else int(freq), tag or None)
                                   for word, freq, tag in entries.itertuples(index=False)))
        self.protected = frozenset(w for w in self.lexicon if len(w) >= protect_min_len)
        self._lcut = (hmm and _listing_lcut(self.tokenizer)) or functools.partial(self.tokenizer.lcut, HMM=hmm)
        self._automaton = None
        if self.protected:
            self._automaton = ahocorasick.Automaton()
            for word in self.protected:
                self._automaton.add_word(word, len(word))
            self._automaton.make_automaton()

    def __repr__(self) -> str:
        return (f"Segmenter({len(self.lexicon)} lexicon terms, {len(self.protected)} protected, "
                f"hmm={self.hmm})")

    def cut(self, text: str) -> list[str]:
        """Tokens of ``text``, protected lexicon terms whole; joined they give back ``text``."""
        if not text:
            return []
        lcut = self._lcut
        if self._automaton is None:
            return lcut(text)
        tokens: list[str] = []
        pos = 0
        for last, length in self._automaton.iter_long(text):
            start = last + 1 - length
            if start > pos:
                tokens += lcut(text[pos:start])
            tokens.append(text[start:last + 1])
            pos = last + 1
        if pos < len(text):
            tokens += lcut(text[pos:])
        return tokens

    def cut_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`cut` of each text."""
        cut = self.cut
        return [cut(t) for t in texts]


def _listing_lcut(tokenizer):
    """``tokenizer.lcut(text)`` (accurate mode, HMM on) for a jieba-next tokenizer: the loop of its
    ``cut`` appending to one list instead of chaining generators (a tenth of segmentation), around
    the same Rust route finder and HMM; a test compares the tokens with plain jieba's. None for
    the other engines, or a jieba-next laid out otherwise: their own ``lcut`` is used."""
    try:
        from jieba_next import finalseg
        from jieba_next._patterns import re_han_default, re_skip_default
    except ImportError:
        return None
    if not (hasattr(tokenizer, "_rust_prefix") and hasattr(tokenizer, "_ensure_rust_prefix")
            and tokenizer.__module__.split(".")[0] == "jieba_next"):
        return None
    freq_get, hmm_cut, lcut = tokenizer.FREQ.get, finalseg.cut, tokenizer.lcut
    han_split, han_match = re_han_default.split, re_han_default.match
    skip_split, skip_match = re_skip_default.split, re_skip_default.match

    def flush(buf: str, out: list) -> None:  # a run of single characters: known, or left to the HMM
        if len(buf) == 1:
            out.append(buf)
        elif not freq_get(buf):
            out.extend(hmm_cut(buf))
        else:
            out.extend(buf)

    def listing_lcut(sentence: str) -> list[str]:
        prefix = tokenizer._rust_prefix  # reset by add_word, rebuilt on demand
        if prefix is None:
            tokenizer._ensure_rust_prefix()
            prefix = tokenizer._rust_prefix
            if prefix is None:
                return lcut(sentence, HMM=True)
        out: list[str] = []
        for block in han_split(sentence):
            if not block:
                continue
            if han_match(block):
                route = prefix.get_dag_and_calc(block)
                x, n, buf = 0, len(block), ""
                while x < n:
                    y = route[x] + 1
                    if y - x == 1:
                        buf += block[x]
                    else:
                        if buf:
                            flush(buf, out)
                            buf = ""
                        out.append(block[x:y])
                    x = y
                if buf:
                    flush(buf, out)
            else:
                for piece in skip_split(block):
                    if skip_match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    return listing_lcut


@functools.lru_cache(maxsize=4)
def default_segmenter(lexicon: str | None = None, *, hmm: bool = True,
                      protect_min_len: int = PROTECT_MIN_LEN) -> Segmenter:
    """One shared :class:`Segmenter` per lexicon file and options (building one loads jieba's
    dictionary, about a second)."""
    return Segmenter(lexicon, hmm=hmm, protect_min_len=protect_min_len)


def tokenize(text: str, *, segmenter: Segmenter | None = None) -> list[str]:
    """Tokens of one text with the packaged lexicon (or ``segmenter``).

    >>> tokenize("严格落实“谁执法谁普法”普法责任制")
    ['严格', '落实', '“', '谁执法谁普法', '”', '普法责任制']
    """
    return (segmenter or default_segmenter()).cut(text)


def segment_sentences(sentences: pd.DataFrame, *, segmenter: Segmenter | None = None) -> pd.DataFrame:
    """Segment every sentence once: one row per token (schema.TOKENS plus ``start``/``end``, the
    token's span in its sentence's text), whitespace and punctuation included.

    >>> s = pd.DataFrame({"doc_id": ["d"], "sentence_id": [0], "text": ["办理行政复议案件"]})
    >>> segment_sentences(s)[["position", "token", "start", "end"]].to_dict("list")
    {'position': [0, 1, 2], 'token': ['办理', '行政复议', '案件'], 'start': [0, 2, 6], 'end': [2, 6, 8]}
    """
    schema.check_columns(sentences, ["doc_id", "sentence_id", "text"], table="sentences")
    seg = segmenter or default_segmenter()
    token_lists = seg.cut_many(sentences["text"].fillna("").astype(str).tolist())
    # Flatten without a Python loop per token: numpy repeats each sentence's keys by its length.
    counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    tokens = list(chain.from_iterable(token_lists))
    first = np.cumsum(counts) - counts
    row = np.repeat(np.arange(len(token_lists)), counts)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    ends = np.cumsum(lengths)
    sentence_offset = np.repeat(np.concatenate([[0], ends])[first], counts) if len(tokens) else ends
    end = ends - sentence_offset
    return pd.DataFrame({
        "doc_id": _repeat_rows(sentences["doc_id"], row),
        "sentence_id": _repeat_rows(sentences["sentence_id"], row),
        "position": np.arange(len(tokens), dtype=np.int64) - np.repeat(first, counts),
        # through Arrow: half the time of pandas converting the Python strings itself
        "token": pd.array(pa.array(tokens, type=pa.large_string()), dtype="string"),
        "start": end - lengths,
        "end": end,
    })


def _repeat_rows(column: pd.Series, rows: np.ndarray):
    """``column``'s values at ``rows``: a text column's own Arrow data taken in C, not a NumPy
    array of Python strings that pandas would convert back."""
    if len(rows) and isinstance(column.dtype, pd.StringDtype):
        return column.array.take(rows)
    return column.to_numpy()[rows]


def quoted_terms(texts: Iterable[str], *, min_count: int = 1) -> pd.Series:
    """Phrases the texts put in quotation marks (2-12 characters, with Chinese), with counts:
    slogans and named policies, the usual candidates for the lexicon.

    >>> quoted_terms(["深化“放管服”改革", "推进“放管服”", "“1310”具体部署"]).to_dict()
    {'放管服': 2}
    """
    found = (m.group(1) for text in texts for m in QUOTED_TERM.finditer(text))
    counts = pd.Series([t for t in found if _CJK.search(t)], dtype="object").value_counts()
    return counts[counts >= min_count].rename("count").rename_axis("term")


def split_terms(sentences: pd.DataFrame, tokens: pd.DataFrame | None = None, *,
                candidates: Iterable[str] | None = None, segmenter: Segmenter | None = None,
                min_count: int = 1) -> pd.DataFrame:
    """Domain terms of a corpus that segmentation splits: candidates for the lexicon.

    A term occurrence is split when a token boundary falls strictly inside it (an occurrence inside
    a longer token is not split). ``candidates`` default to the lexicon plus every quoted phrase of
    the corpus (:func:`quoted_terms`). ``tokens`` is the table from :func:`segment_sentences` of
    the same sentences (made here if not given).

    Returns term, source (lexicon / quoted / given), n_occurrences, n_split, n_by_lexicon (splits
    where an overlapping protected lexicon term took some of its characters, as 行政执法/人员 takes
    执法人员: growing the lexicon will not help there), n_documents, example (the split as ``a/b``)
    and sentence (one sentence where it is split), most split first.

    >>> s = pd.DataFrame({"doc_id": ["d"], "sentence_id": [0], "text": ["推行“首违免罚”清单"]})
    >>> split_terms(s)[["term", "n_split", "example"]].to_dict("records")
    [{'term': '首违免罚', 'n_split': 1, 'example': '首违/免罚'}]
    """
    seg = segmenter or default_segmenter()
    if tokens is None:
        tokens = segment_sentences(sentences, segmenter=seg)
    texts = sentences["text"].fillna("").astype(str)
    if candidates is None:
        quoted = quoted_terms(texts, min_count=min_count).index
        source = {t: "quoted" for t in quoted}
        source.update({t: "lexicon" for t in seg.lexicon})
    else:
        source = {str(t): "given" for t in candidates}
    source = {t: s for t, s in source.items() if len(t) >= 2}
    if not source:
        return pd.DataFrame(columns=COLUMNS_SPLIT_TERMS)
    protected = seg.protected
    automaton = ahocorasick.Automaton()
    for term in source:
        automaton.add_word(term, term)
    automaton.make_automaton()

    # Token boundaries (inner ends) of each sentence, from the one segmentation.
    keys = ["doc_id", "sentence_id"]
    ends = tokens.groupby(keys, sort=False)["end"].agg(list).to_dict()
    pieces = tokens.groupby(keys, sort=False)["token"].agg(list).to_dict()
    occurrences: dict[str, int] = {}
    splits: dict[str, list] = {}
    for doc_id, sentence_id, text in zip(sentences["doc_id"], sentences["sentence_id"], texts):
        bounds = ends.get((doc_id, sentence_id), [])
        for last, term in automaton.iter(text):
            start, stop = last + 1 - len(term), last + 1
            occurrences[term] = occurrences.get(term, 0) + 1
            i = bisect.bisect_right(bounds, start)
            if i < len(bounds) and bounds[i] < stop:
                j = bisect.bisect_left(bounds, stop)
                parts = pieces[(doc_id, sentence_id)][i:j + 1]
                by_lexicon = any(p in protected and p != term for p in parts)
                splits.setdefault(term, []).append((doc_id, "/".join(parts), text, by_lexicon))
    rows = []
    for term, found in splits.items():
        if occurrences[term] < min_count:
            continue
        # Show a split made by jieba when there is one: that is what the lexicon can fix.
        example = min(found, key=lambda f: f[3])
        rows.append((term, source[term], occurrences[term], len(found), sum(f[3] for f in found),
                     len({f[0] for f in found}), example[1], example[2]))
    table = pd.DataFrame(rows, columns=COLUMNS_SPLIT_TERMS)
    return table.sort_values(["n_split", "term"], ascending=[False, True], ignore_index=True)


def place_names(documents: pd.DataFrame, *, columns: Iterable[str] = ("region", "city", "province"),
                segmenter: Segmenter | None = None) -> frozenset[str]:
    """Tokens (two characters or more) of each report's own place names, from the metadata
    columns: a report names itself throughout, which says nothing about its content, so
    notebook 02 can drop these from the term tables.

    >>> sorted(place_names(pd.DataFrame({"region": ["武江区"], "city": ["韶关市"]})))
    ['武江区', '韶关市']
    """
    seg = segmenter or default_segmenter()
    names = set()
    for column in columns:
        if column in documents.columns:
            for value in documents[column].dropna().astype(str).unique():
                names.update(t for t in seg.cut(value) if len(t) >= 2 and not _PUNCT_ONLY.fullmatch(t))
    return frozenset(names - seg.lexicon)
