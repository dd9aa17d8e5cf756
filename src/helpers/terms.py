"""Term statistics from the token table of helpers.segment: filtering, counts and rates, document
frequency, TF-IDF, keyness, collocations, co-occurrence, keyword in context, boilerplate sentences
and the ten-chapter theme profile.

Every function takes the tokens (segmented once) and returns a DataFrame; nothing re-segments.

General stopwords come from stopwords-iso (https://github.com/stopwords-iso/stopwords-iso, MIT
licence, Gene Diaz and contributors), read through the PyPI package ``stopwordsiso``; domain filler
comes from the editable ``data/stopwords_domain.txt``.

>>> tokens = pd.DataFrame({"doc_id": ["a"] * 4, "sentence_id": [0] * 4, "position": range(4),
...                        "token": ["深入", "推进", "行政复议", "。"]})
>>> filter_tokens(tokens)["token"].tolist()
['行政复议']
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers import config, schema

DOMAIN_STOPWORDS_FILE = config.PACKAGE_DATA / "stopwords_domain.txt"
THEMES_FILE = config.PACKAGE_DATA / "themes.yaml"

# Output tables of notebook 02 (data/processed); the columns each function below returns.
TERM_FREQUENCIES = ["term", "count", "n_tokens", "share", "n_chars", "rate_per_10k"]
KEYNESS = ["group", "term", "count", "count_rest", "n_group", "n_rest", "prior", "log_odds", "se", "z"]
COLLOCATIONS = ["first", "second", "bigram", "count", "count_first", "count_second", "pmi", "npmi"]
COOCCURRENCE = ["term_a", "term_b", "n_sentences", "n_a", "n_b", "jaccard"]
THEME_PROFILE = ["chapter", "label", "name_zh", "name_en", "n_tokens", "token_share",
                 "n_sentences", "sentence_share"]

_PUNCTUATION = re.compile(r"[\W_]+")  # no letter, digit or CJK character: punctuation, symbols, space
_NUMBER = re.compile(r"[\d.．,，%％‰]*\d[\d.．,，%％‰]*")
_GROUP_SEP = " | "


# --------------------------------------------------------------------------- word lists


def read_wordlist(path: str | Path) -> list[str]:
    """Words of a plain list: one a line, ``#`` starts a comment, blank lines skipped."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"word list {path} does not exist")
    words = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8-sig").splitlines())
    return list(dict.fromkeys(w for w in words if w))


def general_stopwords(language: str = "zh") -> frozenset[str]:
    """Function words of ``language`` from stopwords-iso (MIT licence; package ``stopwordsiso``).

    >>> {"的", "因此", "我们"} <= general_stopwords()
    True
    """
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        raise ValueError(f"stopwords-iso has no list for language {language!r}")
    return frozenset(stopwordsiso.stopwords(language))


def domain_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Domain filler of the genre (进一步, 深入, 全面 …) from ``data/stopwords_domain.txt`` or ``path``.

    >>> {"进一步", "扎实"} <= domain_stopwords()
    True
    """
    return frozenset(read_wordlist(path or DOMAIN_STOPWORDS_FILE))


def stopword_set(*, general: bool = True, domain: bool | str | Path = True,
                 extra: Iterable[str] = ()) -> frozenset[str]:
    """The union a notebook filters with: general list, domain file (True = packaged, a path =
    that file, False = none) and any ``extra`` words."""
    words = set(extra)
    if general:
        words |= general_stopwords()
    if domain:
        words |= domain_stopwords(None if domain is True else domain)
    return frozenset(words)


def filter_tokens(tokens: pd.DataFrame, *, stopwords: Iterable[str] | None = None,
                  drop_digits: bool = True, drop_punctuation: bool = True, drop_single: bool = True,
                  keep: Iterable[str] = ()) -> pd.DataFrame:
    """Tokens that are terms: stopwords, numbers, punctuation/whitespace and single characters
    removed (each rule a switch). ``stopwords`` None = general plus domain list. Words in ``keep``
    (e.g. the lexicon, which holds 12345) escape the shape rules, never the stopword list.

    Rules are decided once per distinct token, so the cost does not grow with repetitions.
    """
    schema.check_columns(tokens, ["token"], table="tokens")
    stop = stopword_set() if stopwords is None else frozenset(stopwords)
    keep = frozenset(keep)
    codes, uniques = pd.factorize(tokens["token"])

    def is_term(token: str) -> bool:
        if token in stop:
            return False
        if token in keep:
            return True
        if not token.strip():
            return False
        if drop_punctuation and _PUNCTUATION.fullmatch(token):
            return False
        if drop_digits and _NUMBER.fullmatch(token):
            return False
        return not (drop_single and len(token) == 1)

    allowed = np.fromiter((is_term(str(t)) for t in uniques), dtype=bool, count=len(uniques))
    mask = np.zeros(len(tokens), dtype=bool)
    valid = codes >= 0
    mask[valid] = allowed[codes[valid]]
    return tokens.loc[mask].reset_index(drop=True)


def annotate(tokens: pd.DataFrame, *, sentences: pd.DataFrame | None = None,
             documents: pd.DataFrame | None = None,
             columns: Sequence[str] = ("section_type", "region", "city", "province", "level", "report_year"),
             ) -> pd.DataFrame:
    """Add grouping columns to tokens (or sentences): section_type from ``sentences``, metadata
    from ``documents``; only the ``columns`` found there are added."""
    out = tokens
    if sentences is not None:
        cols = [c for c in columns if c in sentences.columns and c not in out.columns]
        if cols:
            out = out.merge(sentences[["doc_id", "sentence_id", *cols]], on=["doc_id", "sentence_id"],
                            how="left", validate="many_to_one")
    if documents is not None:
        cols = [c for c in columns if c in documents.columns and c not in out.columns]
        if cols:
            out = out.merge(documents[["doc_id", *cols]], on="doc_id", how="left", validate="many_to_one")
    return out


def _by(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def group_labels(table: pd.DataFrame, by: str | Sequence[str]) -> pd.Series:
    """One label per row from the ``by`` columns (joined with " | " when several)."""
    cols = _by(by)
    labels = table[cols[0]].astype(str)
    for col in cols[1:]:
        labels = labels + _GROUP_SEP + table[col].astype(str)
    return labels


# --------------------------------------------------------------------------- counts


def term_counts(tokens: pd.DataFrame, *, by: str | Sequence[str] = "doc_id") -> pd.DataFrame:
    """Count of each term in each group: columns ``*by, term, count``, most frequent first.

    >>> t = pd.DataFrame({"doc_id": ["a", "a", "b"], "token": ["普法", "普法", "复议"]})
    >>> term_counts(t).to_dict("records")
    [{'doc_id': 'a', 'term': '普法', 'count': 2}, {'doc_id': 'b', 'term': '复议', 'count': 1}]
    """
    cols = _by(by)
    counts = (tokens.groupby([*cols, "token"], observed=True, sort=False).size()
              .rename("count").reset_index().rename(columns={"token": "term"}))
    counts["term"] = counts["term"].astype(str)
    return counts.sort_values([*cols, "count", "term"], ascending=[True] * len(cols) + [False, True],
                              ignore_index=True)


def frequency_table(tokens: pd.DataFrame, sentences: pd.DataFrame, *,
                    by: str | Sequence[str] = "doc_id") -> pd.DataFrame:
    """Counts with their bases: ``*by, term, count, n_tokens`` (terms in the group), ``share``,
    ``n_chars`` (characters of the group's sentences) and ``rate_per_10k`` (count per 10,000
    characters). Group by any column both tables carry (doc_id, section_type, region …; see
    :func:`annotate`)."""
    cols = _by(by)
    counts = term_counts(tokens, by=cols)
    n_tokens = counts.groupby(cols, observed=True)["count"].transform("sum")
    chars = (sentences.assign(_n=sentences["text"].str.len()).groupby(cols, observed=True)["_n"].sum()
             .rename("n_chars").reset_index())
    table = counts.assign(n_tokens=n_tokens.astype("int64"), share=counts["count"] / n_tokens)
    table = table.merge(chars, on=cols, how="left")
    table["rate_per_10k"] = table["count"] / table["n_chars"] * 10_000
    return table[[*cols, *TERM_FREQUENCIES]]


def document_frequency(tokens: pd.DataFrame, *, unit: str = "doc_id") -> pd.DataFrame:
    """In how many units (documents by default) each term occurs: ``term, df, n_units, df_share``."""
    n_units = tokens[unit].nunique()
    df = tokens.drop_duplicates([unit, "token"]).groupby("token", observed=True).size()
    out = df.rename("df").rename_axis("term").reset_index()
    out["term"] = out["term"].astype(str)
    out["n_units"] = n_units
    out["df_share"] = out["df"] / n_units
    return out.sort_values(["df", "term"], ascending=[False, True], ignore_index=True)


def tfidf(tokens: pd.DataFrame, *, by: str = "doc_id", smooth: bool = True) -> pd.DataFrame:
    """TF-IDF of each term in each unit: ``tf = count / terms in unit``; ``idf = ln((1+N)/(1+df)) + 1``
    when ``smooth`` (scikit-learn's convention, so a term in every unit keeps weight 1), else
    ``ln(N/df)``. Columns ``by, term, count, tf, df, idf, tfidf``, highest first within a unit."""
    counts = term_counts(tokens, by=by)
    counts["tf"] = counts["count"] / counts.groupby(by)["count"].transform("sum")
    n = counts[by].nunique()
    df = counts.groupby("term")[by].transform("nunique")
    counts["df"] = df
    counts["idf"] = np.log((1 + n) / (1 + df)) + 1 if smooth else np.log(n / df)
    counts["tfidf"] = counts["tf"] * counts["idf"]
    return counts.sort_values([by, "tfidf", "term"], ascending=[True, False, True], ignore_index=True)


# --------------------------------------------------------------------------- keyness


def drop_spans(tokens: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """Tokens outside ``spans``: rows of doc_id, sentence_id and, optionally, start/end within the
    sentence (without them the whole sentence goes). A token overlapping a span is dropped."""
    keys = ["doc_id", "sentence_id"]
    if not {"start", "end"} <= set(spans.columns) or not {"start", "end"} <= set(tokens.columns):
        drop = pd.MultiIndex.from_frame(spans[keys].drop_duplicates())
        return tokens[~pd.MultiIndex.from_frame(tokens[keys]).isin(drop)].reset_index(drop=True)
    marked = tokens[[*keys, "start", "end"]].reset_index(names="_row").merge(
        spans[[*keys, "start", "end"]], on=keys, suffixes=("", "_span"))
    inside = marked.loc[(marked["start"] < marked["end_span"]) & (marked["end"] > marked["start_span"]), "_row"]
    keep = np.ones(len(tokens), dtype=bool)
    keep[inside.unique()] = False
    return tokens[keep].reset_index(drop=True)


def keyness(tokens: pd.DataFrame, *, by: str | Sequence[str] = "doc_id", alpha0: float | None = None,
            min_count: int = 1, exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    """Distinctive terms of every group against all other groups at once: the weighted log-odds
    ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words").

    For group i, the rest j, term w, counts y and totals n, with the shared corpus prior
    ``a_w = alpha0 * y_w / n`` (``a0 = alpha0``; None = corpus size, i.e. the prior is the corpus
    counts):

        log_odds = ln((y_iw + a_w) / (n_i + a0 - y_iw - a_w)) - ln((y_jw + a_w) / (n_j + a0 - y_jw - a_w))
        se = sqrt(1 / (y_iw + a_w) + 1 / (y_jw + a_w)),   z = log_odds / se

    Terms with fewer than ``min_count`` corpus occurrences are left out; ``exclude`` (sentences or
    spans, e.g. the flagged rows of :func:`boilerplate`) removes their tokens first. Returns one
    row per group and term (zero counts included, so the table pivots into a group × term matrix;
    see :func:`keyness_matrix`) with the raw counts beside the statistic.
    """
    if exclude is not None and len(exclude):
        tokens = drop_spans(tokens, exclude)
    groups = group_labels(tokens, by)
    table = pd.crosstab(groups.to_numpy(), tokens["token"].astype(str).to_numpy())
    table = table.loc[:, table.sum(axis=0) >= min_count]
    if table.shape[0] < 2:
        raise ValueError(f"keyness needs at least two groups of '{by}', found {table.shape[0]}")
    y = table.to_numpy(dtype=float)
    y_w = y.sum(axis=0)
    n = y_w.sum()
    a0 = n if alpha0 is None else float(alpha0)
    prior = a0 * y_w / n
    n_i = y.sum(axis=1, keepdims=True)
    y_j = y_w - y
    n_j = n - n_i
    log_odds = (np.log((y + prior) / (n_i + a0 - y - prior))
                - np.log((y_j + prior) / (n_j + a0 - y_j - prior)))
    se = np.sqrt(1 / (y + prior) + 1 / (y_j + prior))
    g, v = y.shape
    out = pd.DataFrame({
        "group": np.repeat(table.index.to_numpy(), v),
        "term": np.tile(table.columns.to_numpy(), g),
        "count": y.ravel().astype("int64"),
        "count_rest": y_j.ravel().astype("int64"),
        "n_group": np.repeat(n_i.ravel(), v).astype("int64"),
        "n_rest": np.repeat(n_j.ravel(), v).astype("int64"),
        "prior": np.tile(prior, g),
        "log_odds": log_odds.ravel(),
        "se": se.ravel(),
        "z": (log_odds / se).ravel(),
    })
    return out.sort_values(["group", "z"], ascending=[True, False], ignore_index=True)


def keyness_matrix(table: pd.DataFrame, *, value: str = "z", terms: Iterable[str] | None = None) -> pd.DataFrame:
    """Group × term matrix of one keyness column (``z``, ``log_odds`` or ``count``)."""
    wide = table.pivot(index="group", columns="term", values=value)
    return wide if terms is None else wide.reindex(columns=list(terms))


def top_distinctive(table: pd.DataFrame, *, n: int = 15, min_count: int = 1) -> pd.DataFrame:
    """The ``n`` highest-z terms of each group that the group uses at least ``min_count`` times."""
    kept = table[table["count"] >= min_count]
    return (kept.sort_values(["group", "z"], ascending=[True, False])
            .groupby("group", sort=True).head(n).reset_index(drop=True))


def side_by_side(table: pd.DataFrame, *, by: str, n: int = 10, value: str = "count", term: str = "term",
                 fmt: str = "{:,.0f}", order: Iterable[str] | None = None) -> pd.DataFrame:
    """The ``n`` terms with the highest ``value`` in each ``by`` group, one column per group
    (``order``, default sorted) and one row per rank, each cell "term (value)": a table to read
    the groups against each other.

    >>> t = pd.DataFrame({"region": ["矿区", "矿区", "武江区"], "term": ["普法", "复议", "执法"], "count": [5, 3, 4]})
    >>> side_by_side(t, by="region", n=2).to_dict("list")
    {'武江区': ['执法 (4)', ''], '矿区': ['普法 (5)', '复议 (3)']}
    """
    groups = [str(g) for g in order] if order is not None else sorted(table[by].astype(str).unique())
    ranked = (table.assign(_group=table[by].astype(str))
              .sort_values(["_group", value, term], ascending=[True, False, True]))
    columns = {}
    for group in groups:
        rows = ranked[ranked["_group"] == group].head(n)
        columns[group] = [f"{t} ({fmt.format(v)})" for t, v in zip(rows[term], rows[value])]
    wide = pd.DataFrame({group: pd.Series(cells, dtype=object) for group, cells in columns.items()})
    wide = wide.reindex(range(max([len(c) for c in columns.values()] + [0]))).fillna("")
    wide.index = pd.RangeIndex(1, len(wide) + 1, name="rank")
    return wide


# --------------------------------------------------------------------------- collocations


def collocations(tokens: pd.DataFrame, *, min_count: int = 3) -> pd.DataFrame:
    """Adjacent term pairs (next to each other in the text, in one sentence) scored by pointwise
    mutual information, ``pmi = log2(c12 * N / (c1 * c2))`` with N the number of terms, and its
    normalised form ``npmi = pmi / -log2(c12 / N)`` (1 = always together). Pairs seen fewer than
    ``min_count`` times are dropped. Give filtered tokens: a removed stopword breaks adjacency."""
    schema.check_columns(tokens, ["doc_id", "sentence_id", "position", "token"], table="tokens")
    t = tokens[["doc_id", "sentence_id", "position", "token"]].sort_values(
        ["doc_id", "sentence_id", "position"], ignore_index=True)
    words = t["token"].astype(str).to_numpy()
    same = ((t["doc_id"].to_numpy()[1:] == t["doc_id"].to_numpy()[:-1])
            & (t["sentence_id"].to_numpy()[1:] == t["sentence_id"].to_numpy()[:-1])
            & (np.diff(t["position"].to_numpy()) == 1))
    pairs = pd.DataFrame({"first": words[:-1][same], "second": words[1:][same]})
    counts = pairs.value_counts().rename("count").reset_index()
    counts = counts[counts["count"] >= min_count]
    unigram = pd.Series(words).value_counts()
    n = float(len(words))
    counts["count_first"] = counts["first"].map(unigram).astype("int64")
    counts["count_second"] = counts["second"].map(unigram).astype("int64")
    counts["bigram"] = counts["first"] + counts["second"]
    counts["pmi"] = np.log2(counts["count"] * n / (counts["count_first"] * counts["count_second"]))
    counts["npmi"] = counts["pmi"] / -np.log2(counts["count"] / n)
    return counts[COLLOCATIONS].sort_values(["pmi", "count"], ascending=False, ignore_index=True)


def cooccurrence(tokens: pd.DataFrame, *, terms: Iterable[str] | None = None, top_n: int = 30) -> pd.DataFrame:
    """How many sentences hold both terms of each pair among ``terms`` (default: the ``top_n`` most
    frequent): ``term_a, term_b, n_sentences, n_a, n_b, jaccard`` (shared / either)."""
    if terms is None:
        terms = tokens["token"].astype(str).value_counts().head(top_n).index
    terms = list(dict.fromkeys(map(str, terms)))
    keys = ["doc_id", "sentence_id"]
    hits = tokens.loc[tokens["token"].astype(str).isin(terms), [*keys, "token"]].astype({"token": str})
    hits = hits.drop_duplicates()
    n_sentences = hits["token"].value_counts()
    pairs = hits.merge(hits, on=keys, suffixes=("_a", "_b"))
    pairs = pairs[pairs["token_a"] < pairs["token_b"]]
    out = (pairs.groupby(["token_a", "token_b"]).size().rename("n_sentences").reset_index()
           .rename(columns={"token_a": "term_a", "token_b": "term_b"}))
    out["n_a"] = out["term_a"].map(n_sentences).astype("int64")
    out["n_b"] = out["term_b"].map(n_sentences).astype("int64")
    out["jaccard"] = out["n_sentences"] / (out["n_a"] + out["n_b"] - out["n_sentences"])
    return out[COOCCURRENCE].sort_values(["n_sentences", "jaccard"], ascending=False, ignore_index=True)


def kwic(sentences: pd.DataFrame, term: str, *, window: int = 20, tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every use of ``term`` with ``window`` characters of context either side, its document and
    sentence. With ``tokens`` (from helpers.segment) only whole-token uses count, so 复议 does not
    match inside 行政复议.

    >>> s = pd.DataFrame({"doc_id": ["a"], "sentence_id": [3], "text": ["办结行政复议案件1件。"]})
    >>> kwic(s, "行政复议", window=2)[["left", "term", "right"]].to_dict("records")
    [{'left': '办结', 'term': '行政复议', 'right': '案件'}]
    """
    if not term:
        raise ValueError("kwic needs a non-empty term")
    keep = [c for c in ("doc_id", "sentence_id", "section_type") if c in sentences.columns]
    texts = sentences["text"].fillna("").astype(str)
    rows = []
    if tokens is not None:
        hits = tokens.loc[tokens["token"] == term, ["doc_id", "sentence_id", "start", "end"]]
        found = hits.merge(sentences[keep].assign(text=texts), on=["doc_id", "sentence_id"])
        for record in found[[*keep, "start", "end", "text"]].itertuples(index=False):
            *meta, start, end, text = record
            rows.append((*meta, text[max(0, start - window):start], term, text[end:end + window],
                         start, text))
    else:
        found = sentences.loc[texts.str.contains(term, regex=False), keep].assign(text=texts)
        for record in found.itertuples(index=False):
            text = record[-1]
            start = text.find(term)
            while start >= 0:
                end = start + len(term)
                rows.append((*record[:-1], text[max(0, start - window):start], term,
                             text[end:end + window], start, text))
                start = text.find(term, end)
    return pd.DataFrame(rows, columns=[*keep, "left", "term", "right", "start", "sentence"])


# --------------------------------------------------------------------------- boilerplate


_LIST_MARKER = re.compile(r"^\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、是]|\d+[.、．])")
_CLAUSE = re.compile(r"[^,，;；:：]+")


def _normalise_for_shingles(text: str) -> str:
    """Width-folded, list marker removed, digits as 0, without punctuation or space: so copies
    that differ only in numbering, numbers or full-/half-width punctuation still match."""
    text = _LIST_MARKER.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"\d", "0", re.sub(r"[\W_]+", "", text))


def text_units(sentences: pd.DataFrame, *, unit: str = "sentence") -> pd.DataFrame:
    """Sentences, or their clauses (split at , ; :), as doc_id, sentence_id, start, end, text with
    start/end indexing the sentence's text."""
    base = sentences[["doc_id", "sentence_id", "text"]].assign(text=sentences["text"].fillna("").astype(str))
    if unit == "sentence":
        return base.assign(start=0, end=base["text"].str.len())[["doc_id", "sentence_id", "start", "end", "text"]]
    if unit != "clause":
        raise ValueError(f"unit must be 'sentence' or 'clause', not {unit!r}")
    rows = [(d, i, m.start(), m.end(), m.group())
            for d, i, text in base.itertuples(index=False) for m in _CLAUSE.finditer(text)]
    return pd.DataFrame(rows, columns=["doc_id", "sentence_id", "start", "end", "text"])


def boilerplate(sentences: pd.DataFrame, *, unit: str = "sentence", threshold: float = 0.8,
                shingle: int = 4, min_chars: int = 10, min_documents: int = 2, num_hashes: int = 64,
                bands: int = 16, seed: int = 0) -> pd.DataFrame:
    """Flag sentences (or, with ``unit="clause"``, clauses) that recur nearly verbatim in several
    reports: slogans and headings copied from central documents.

    Two units match when the Jaccard similarity of their character ``shingle``-grams (after
    :func:`_normalise_for_shingles`) is at least ``threshold``; a unit is boilerplate when its
    group of matching units spans at least ``min_documents`` documents. Candidates come from
    MinHash with locality-sensitive hashing (``num_hashes`` hashes in ``bands`` bands), so the cost
    grows linearly with the corpus; each candidate pair is then checked exactly. Units shorter than
    ``min_chars`` (normalised) are never flagged.

    Returns doc_id, sentence_id, start, end (span in the sentence), text, boilerplate,
    n_documents (documents holding a copy) and cluster (-1 when unmatched); pass the flagged rows
    to :func:`keyness` as ``exclude``.
    """
    schema.check_columns(sentences, ["doc_id", "sentence_id", "text"], table="sentences")
    if num_hashes % bands:
        raise ValueError(f"num_hashes ({num_hashes}) must be a multiple of bands ({bands})")
    out = text_units(sentences, unit=unit)
    norm = [_normalise_for_shingles(t) for t in out["text"]]
    eligible = np.array([len(t) >= max(min_chars, shingle) for t in norm], dtype=bool)
    idx = np.flatnonzero(eligible)
    out["boilerplate"] = False
    out["n_documents"] = 1
    out["cluster"] = -1
    if len(idx) < 2:
        return out

    # Hash every shingle at once: the corpus as one array of code points, a polynomial hash over
    # each window of `shingle` characters that stays inside one sentence.
    texts = [norm[i] for i in idx]
    lengths = np.array([len(t) for t in texts])
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    owner = np.repeat(np.arange(len(texts)), lengths)
    h = np.zeros(len(codes) - shingle + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(shingle):
            h = h * np.uint64(1_000_003) + codes[j:len(codes) - shingle + 1 + j]
        valid = owner[:len(h)] == owner[shingle - 1:]
        h, h_owner = h[valid], owner[:len(h)][valid]
        starts = np.searchsorted(h_owner, np.arange(len(texts)))
        rng = np.random.default_rng(seed)
        a = rng.integers(1, 2**63, size=num_hashes, dtype=np.uint64) | np.uint64(1)
        b = rng.integers(0, 2**63, size=num_hashes, dtype=np.uint64)
        signature = np.empty((len(texts), num_hashes), dtype=np.uint64)
        for k in range(num_hashes):
            signature[:, k] = np.minimum.reduceat((h * a[k] + b[k]) >> np.uint64(11), starts)

    # Sentences sharing one band of the signature are candidates; link each to the previous one
    # in its bucket (linear), then confirm with the exact Jaccard similarity.
    rows = num_hashes // bands
    candidates = set()
    for band in range(bands):
        block = np.ascontiguousarray(signature[:, band * rows:(band + 1) * rows])
        _, bucket = np.unique(block.view([("", np.uint64)] * rows), return_inverse=True)
        order = np.argsort(bucket.ravel(), kind="stable")
        same = bucket.ravel()[order][1:] == bucket.ravel()[order][:-1]
        candidates.update(zip(order[:-1][same].tolist(), order[1:][same].tolist()))
    shingles: dict[int, set] = {}

    def grams(i: int) -> set:
        if i not in shingles:
            t = texts[i]
            shingles[i] = {t[p:p + shingle] for p in range(len(t) - shingle + 1)}
        return shingles[i]

    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in candidates:
        gi, gj = grams(i), grams(j)
        if len(gi & gj) >= threshold * len(gi | gj):
            parent[find(i)] = find(j)
    roots = np.array([find(i) for i in range(len(texts))])
    docs = out["doc_id"].to_numpy()[idx]
    frame = pd.DataFrame({"root": roots, "doc_id": docs})
    n_docs = frame.groupby("root")["doc_id"].transform("nunique").to_numpy()
    size = frame.groupby("root")["doc_id"].transform("size").to_numpy()
    cluster = np.where(size > 1, pd.factorize(roots)[0], -1)
    out.iloc[idx, out.columns.get_loc("n_documents")] = n_docs
    out.iloc[idx, out.columns.get_loc("cluster")] = cluster
    out["boilerplate"] = out["n_documents"] >= min_documents
    return out


# --------------------------------------------------------------------------- themes


def read_themes(path: str | Path | None = None) -> pd.DataFrame:
    """The theme dictionary as one row per term: chapter, label, name_zh, name_en, term.

    >>> th = read_themes()
    >>> th["chapter"].nunique(), th.loc[th.term == "行政复议", "chapter"].item()
    (10, 7)
    """
    path = Path(path) if path else THEMES_FILE
    data = config.read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError(f"{path}: expected a mapping with a 'chapters' list")
    rows = []
    for i, chapter in enumerate(data["chapters"], start=1):
        missing = [k for k in ("number", "name_zh", "name_en", "terms") if k not in chapter]
        if missing:
            raise ValueError(f"{path}: chapter {i} lacks {missing}")
        label = str(chapter.get("label") or chapter["number"])
        for term in chapter["terms"]:
            rows.append((int(chapter["number"]), label, chapter["name_zh"], chapter["name_en"], str(term)))
    table = pd.DataFrame(rows, columns=["chapter", "label", "name_zh", "name_en", "term"])
    repeated = table.loc[table["term"].duplicated(), "term"].tolist()
    if repeated:
        raise ValueError(f"{path}: terms listed under more than one chapter: {repeated}")
    return table


def theme_profile(tokens: pd.DataFrame, sentences: pd.DataFrame, *, themes: pd.DataFrame | None = None,
                  by: str | Sequence[str] = "doc_id") -> pd.DataFrame:
    """Per group and chapter: ``n_tokens`` matching the chapter's terms and their ``token_share``
    of all theme-matched tokens of the group; ``n_sentences`` naming the chapter and their
    ``sentence_share`` of the group's sentences. Every group × chapter is present (zeros too).
    Give the unfiltered tokens: some terms (12345) look like numbers."""
    cols = _by(by)
    themes = read_themes() if themes is None else themes
    chapters = themes.drop_duplicates("chapter")[["chapter", "label", "name_zh", "name_en"]]
    term_chapter = themes.set_index("term")["chapter"]
    keys = list(dict.fromkeys([*cols, "doc_id", "sentence_id"]))
    hits = tokens[keys].assign(chapter=tokens["token"].astype(str).map(term_chapter))
    hits = hits.dropna(subset=["chapter"]).astype({"chapter": "int64"})
    n_tok = hits.groupby([*cols, "chapter"]).size().rename("n_tokens")
    n_sent = hits.drop_duplicates([*keys, "chapter"]).groupby([*cols, "chapter"]).size().rename("n_sentences")
    groups = sentences[cols].drop_duplicates()
    grid = groups.merge(chapters, how="cross")
    grid = grid.merge(n_tok.reset_index(), on=[*cols, "chapter"], how="left")
    grid = grid.merge(n_sent.reset_index(), on=[*cols, "chapter"], how="left")
    grid[["n_tokens", "n_sentences"]] = grid[["n_tokens", "n_sentences"]].fillna(0).astype("int64")
    total_tokens = grid.groupby(cols)["n_tokens"].transform("sum")
    n_sentences = sentences.groupby(cols).size().rename("_all").reset_index()
    grid = grid.merge(n_sentences, on=cols, how="left")
    grid["token_share"] = np.where(total_tokens > 0, grid["n_tokens"] / total_tokens.where(total_tokens > 0, 1), 0.0)
    grid["sentence_share"] = grid["n_sentences"] / grid["_all"]
    return grid[[*cols, *THEME_PROFILE]].sort_values([*cols, "chapter"], ignore_index=True)
