"""build_corpus and ``python -m helpers clean``: tables, duplicates, raw files untouched."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from helpers import config, pipeline, schema, store

from conftest import MANIFEST, REPORT_FILES


def tree_hash(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_corpus_tables_follow_the_schema(corpus):
    schema.check_columns(corpus.documents, schema.DOCUMENTS, table="documents")
    for field in schema.METADATA_FIELDS:
        assert corpus.documents[f"{field}_origin"].isin(["manifest", "inferred", "missing"]).all()
    schema.check_columns(corpus.sections, schema.SECTIONS, table="sections")
    schema.check_columns(corpus.sentences, schema.SENTENCES, table="sentences")
    schema.check_columns(corpus.cleaning_log, schema.CLEANING_LOG, table="cleaning_log")
    schema.check_columns(corpus.warnings, schema.WARNINGS, table="warnings")
    assert len(corpus.documents) == 5 and corpus.warnings.empty
    assert corpus.documents["encoding"].eq("utf_8").all()
    log = corpus.cleaning_log.pivot(index="file", columns="step", values="count")
    assert log.loc["003_2cdd6b3c9939285b.txt", "line_joins"] == 1
    assert log.loc["002_85a6f3b4405b5e46.txt", "chrome"] == 5  # 当前位置, 发布日期, 打印, 相关附件, 相关信息
    assert log.loc["001_e39e1493065be82e.txt", "chrome"] == 3  # signature, date, (此件公开发布)
    counts = corpus.sentences.groupby("doc_id").size()
    assert corpus.documents.set_index("doc_id")["n_sentences"].sort_index().tolist() == counts.sort_index().tolist()


def test_steps_and_document_filter(raw_dir):
    only = pipeline.build_corpus(raw_dir, steps=["whitespace"], documents=["2022-hubei-huangshi-tieshan"])
    assert only.documents["doc_id"].tolist() == ["2022-hubei-huangshi-tieshan"]
    assert set(only.cleaning_log["step"]) == {"whitespace"}
    assert "发布日期" in only.documents["text"].iloc[0]


def test_duplicates_are_reported_and_kept_once(tmp_path, raw_texts):
    folder = tmp_path / "dup"
    folder.mkdir()
    name = REPORT_FILES[3]
    shutil.copy(config.RAW / name, folder / name)
    (folder / "copy_gbk.txt").write_bytes(raw_texts[name].replace("\xa0", " ").encode("gbk"))
    shutil.copy(config.RAW / REPORT_FILES[0], folder / REPORT_FILES[0])
    result = pipeline.build_corpus(folder, manifest=False)
    assert sorted(result.documents["file"]) == sorted([name, REPORT_FILES[0]])
    row = result.documents.set_index("file").loc[name]
    assert row["duplicate_files"] == "copy_gbk.txt"
    warning = result.warnings.set_index("file").loc["copy_gbk.txt", "reason"]
    assert warning.startswith(f"duplicate of {name}")
    assert result.sentences["doc_id"].value_counts().size == 2


def test_manifest_path_and_missing_manifest(tmp_path, raw_dir):
    folder = tmp_path / "r"
    folder.mkdir()
    shutil.copy(raw_dir / REPORT_FILES[1], folder / REPORT_FILES[1])
    manifest = tmp_path / "elsewhere.csv"
    MANIFEST.to_csv(manifest, index=False)
    with_manifest = pipeline.build_corpus(folder, manifest=manifest)
    assert with_manifest.documents["doc_id"].tolist() == ["2022-shanxi-yangquan-kuangqu"]
    assert with_manifest.documents["level_origin"].tolist() == ["manifest"]
    without = pipeline.build_corpus(folder)
    assert without.documents["doc_id"].tolist() == [REPORT_FILES[1].removesuffix(".txt")]
    assert without.documents["level_origin"].tolist() == ["inferred"]


@pytest.mark.parametrize("with_manifest", [True, False])
def test_clean_command_writes_the_tables_and_leaves_raw_untouched(tmp_path, raw_dir, with_manifest):
    before = tree_hash(raw_dir)
    source = raw_dir
    if not with_manifest:
        source = tmp_path / "raw"
        source.mkdir()
        for name in REPORT_FILES:
            shutil.copy(raw_dir / name, source / name)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "helpers", "clean", str(source), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert tree_hash(raw_dir) == before
    for name in pipeline.TABLES:
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    documents = store.read_table(out, "documents")
    assert len(documents) == 5
    expected_origin = "manifest" if with_manifest else "inferred"
    assert (documents["province_origin"] == expected_origin).all()
    sections = store.read_table(out, "sections")
    assert set(sections["section_type"]) <= set(schema.SECTION_TYPES)
    csv = pd.read_csv(out / "sentences.csv", encoding="utf-8-sig")
    assert len(csv) == len(store.read_table(out, "sentences"))


def test_clean_command_on_a_missing_folder(tmp_path, capsys):
    assert pipeline.clean_command(tmp_path / "nope", out=tmp_path / "out") == 1
    assert "is not a folder" in capsys.readouterr().err


def test_two_files_with_one_stem_get_distinct_doc_ids_everywhere(tmp_path, raw_texts):
    """a.txt and a.html hold different reports: the one later in file order (a.txt) gets its format appended, in
    every table, in memory and as written."""
    first, second = list(raw_texts.values())[:2]
    (tmp_path / "a.txt").write_text(first, encoding="utf-8")
    (tmp_path / "a.html").write_text(f"<html><body><p>{second.replace(chr(10), '</p><p>')}</p></body></html>",
                                     encoding="utf-8")
    built = pipeline.build_corpus(tmp_path, manifest=False, tokens=True, quantities=True)
    out = tmp_path / "tables"
    pipeline.process_corpus(tmp_path, out=out, manifest=False, cache=False)
    for tables in (built.__dict__, {name: store.read_table(out, name) for name in
                                    ("documents", "sections", "sentences", "tokens", "quantities")}):
        assert sorted(tables["documents"]["doc_id"]) == ["a", "a-txt"]
        for name in ("sections", "sentences", "tokens", "quantities"):
            assert set(tables[name]["doc_id"]) == {"a", "a-txt"}, name
        renamed = tables["sentences"][tables["sentences"]["doc_id"] == "a-txt"]
        assert renamed["sentence_id"].str.startswith("a-txt:").all()
    assert any("already used; renamed" in reason for reason in built.warnings["reason"])


def test_documents_computed_in_batches_give_the_tables_of_one_at_a_time(tmp_path, raw_texts, monkeypatch):
    """Tokens and quantities are computed for a batch of documents at once and split back: the
    tables equal those computed document by document, also with two files of one stem (one doc_id
    in a batch) and a file that holds no sentence."""
    for name, text in raw_texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    first = next(iter(raw_texts))
    (tmp_path / first.replace(".txt", ".html")).write_text(
        "<html><body><p>" + raw_texts[first].replace("\n", "</p><p>")[:3000] + "</p></body></html>",
        encoding="utf-8")
    (tmp_path / "chrome_only.txt").write_text("打印本页 关闭窗口\n", encoding="utf-8")  # no text left
    batched = pipeline.build_corpus(tmp_path, manifest=False, tokens=True, quantities=True)
    monkeypatch.setattr(pipeline, "BATCH_DOCUMENTS", 1)
    alone = pipeline.build_corpus(tmp_path, manifest=False, tokens=True, quantities=True)
    assert len(batched.documents) == 7 and batched.documents["doc_id"].is_unique
    assert (batched.documents["n_sentences"] == 0).sum() == 1
    assert len(batched.quantities) > 300 and batched.quantities["doc_id"].nunique() == 6
    for name in ("documents", "sections", "sentences", "tokens", "quantities", "warnings"):
        pd.testing.assert_frame_equal(getattr(batched, name), getattr(alone, name), obj=name)
    # and the tables of each report are those process_document gives for it alone
    from helpers import corpus

    for doc_id, file in zip(batched.documents["doc_id"], batched.documents["file"]):
        own = pipeline.process_document(corpus.read_bytes(file, (tmp_path / file).read_bytes()), doc_id=doc_id)
        for name in ("sections", "sentences"):
            rows = getattr(batched, name).query("doc_id == @doc_id").reset_index(drop=True)
            if len(rows):
                pd.testing.assert_frame_equal(rows, getattr(own, name)[rows.columns], obj=f"{name} of {file}")
            else:
                assert getattr(own, name).empty


def test_the_same_command_again_leaves_tables_that_are_up_to_date(tmp_path, raw_texts):
    """A second process_corpus over unchanged reports writes nothing; a changed report, a table
    touched by hand or another option writes the tables again."""
    reports, out, cache = tmp_path / "reports", tmp_path / "tables", tmp_path / "cache"
    reports.mkdir()
    for name, text in raw_texts.items():
        (reports / name).write_text(text, encoding="utf-8")

    def run(**options):
        return pipeline.process_corpus(reports, out=out, cache=cache, manifest=False, **options)

    def stamps():
        return {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    first = run()
    written = stamps()
    again = run()
    assert (first["up_to_date"], again["up_to_date"]) == (False, True)
    assert again["rows"] == first["rows"] and again["n_docs"] == 5 and again["cache_hits"] == 5
    assert stamps() == written
    (out / "sentences.parquet").unlink()
    assert not run()["up_to_date"] and (out / "sentences.parquet").exists()
    assert run()["up_to_date"] and not run(tokens=False)["up_to_date"]
    changed = sorted(raw_texts)[0]
    (reports / changed).write_text(raw_texts[changed].replace("。", "。全年新增法律顾问12名。", 1), encoding="utf-8")
    result = run(tokens=False)
    assert not result["up_to_date"] and result["cache_misses"] == 1
    assert "全年新增法律顾问12名" in store.read_table(out, "documents").set_index("file").loc[changed, "text"]
    assert not pipeline.process_corpus(reports, out=out, cache=False, manifest=False, tokens=False)["up_to_date"]
