"""Groups: what a folder of reports can be compared by, and a label for every report.

A researcher's folder is not always many regions of one year: one county over ten years, one report,
or a report and its revised version are as common. :func:`comparison_groups` picks the comparison the
folder supports (the asked column, else the years of one region, else report against report, else
none: one report shows its own profile) and says so; :func:`report_labels` names each report by
region and year, adding its doc_id where two reports share both.

>>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["武江区"] * 3,
...                      "report_year": ["2022", "2023", "2023"]})
>>> g = comparison_groups(docs)
>>> g.column, g.labels.tolist()
('report_year', ['2022', '2023', '2023'])
>>> report_labels(docs).tolist()
['武江区 2022', '武江区 2023 · b', '武江区 2023 · c']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import metadata


@dataclass(frozen=True)
class Grouping:
    """The comparison a corpus supports: ``column`` of ``documents`` (None when there is nothing to
    compare), each report's group ``labels`` (aligned with ``documents``) and a sentence saying why."""

    column: str | None
    labels: pd.Series
    note: str

    @property
    def n_groups(self) -> int:
        return int(self.labels.nunique())


def _labels(documents: pd.DataFrame, column: str) -> pd.Series:
    if column == "doc_id":
        return documents["doc_id"].astype(str)
    if column == "report_year":
        years = pd.to_numeric(documents[column], errors="coerce")
        text = years.map(lambda y: "" if pd.isna(y) else str(int(y)))
        return text.where(text != "", documents["doc_id"].astype(str)).rename(column)
    return metadata.group_key(documents, column)


def comparison_groups(documents: pd.DataFrame, *, by: str = "region") -> Grouping:
    """The groups to compare terms by: ``by`` when the reports fall into two or more of its groups;
    else, for reports of one group, their report years (one county over ten years compares years);
    else each report against the others; else (one report) none.

    >>> one = pd.DataFrame({"doc_id": ["a"], "region": ["矿区"], "report_year": ["2022"]})
    >>> comparison_groups(one).column is None
    True
    """
    if by not in documents.columns:
        raise ValueError(f"group_by: documents has no column {by!r}")
    asked = _labels(documents, by)
    if asked.nunique() >= 2:
        return Grouping(by, asked, f"{len(documents)} reports compared by {by} ({asked.nunique()} groups)")
    only = asked.iloc[0] if len(asked) else ""
    if "report_year" in documents.columns and by != "report_year":
        years = _labels(documents, "report_year")
        if years.nunique() >= 2:
            return Grouping("report_year", years, f"all {len(documents)} reports are of one {by} ({only}): "
                                                  f"their {years.nunique()} report years are compared instead")
    if len(documents) >= 2:
        return Grouping("doc_id", _labels(documents, "doc_id"),
                        f"all {len(documents)} reports are of one {by} ({only}) and one year: "
                        "each report is compared with the others")
    return Grouping(None, asked, "one report: nothing to compare it with, so its own profile is shown "
                                 "(its most frequent and most weighted terms, its section types)")


def report_labels(documents: pd.DataFrame, *, year: str = "always") -> pd.Series:
    """A label per report, unique in ``documents`` and indexed like it: the region with the report
    year ("矿区 2022"; with ``year="when_needed"`` only for a region with several reports), and the
    doc_id added where two reports share both (a report and its revised version). A report of
    unknown region is named by its doc_id.

    >>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["矿区", "矿区", "武江区"],
    ...                      "report_year": [2022, 2023.0, 2024]})
    >>> report_labels(docs, year="when_needed").tolist()
    ['矿区 2022', '矿区 2023', '武江区']
    """
    region = metadata.group_key(documents, "region")
    years = documents.get("report_year", pd.Series("", index=documents.index))
    years = years.fillna("").astype(str).str.replace(r"\.0$", "", regex=True)
    with_year = (region + " " + years).str.strip()
    if year == "when_needed":
        several = region.map(region.value_counts()) > 1
        label = region.where(~several, with_year)
    else:
        label = with_year
    shared = label.duplicated(keep=False)
    return label.where(~shared, label + " · " + documents["doc_id"].astype(str))
