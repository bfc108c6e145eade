"""Tokenisation and weighting of the Chinese catalog search (no database)."""

from govshare.catalog.search import ITEM_WEIGHT, NAME_WEIGHT, SUMMARY_WEIGHT, resource_terms, tokenize


def test_chinese_text_becomes_bigrams():
    assert tokenize("人口基础信息") == ["人口", "口基", "基础", "础信", "信息"]


def test_single_character_stays_a_unigram():
    assert tokenize("人") == ["人"]


def test_latin_words_are_lowercased_and_full_width_normalised():
    assert tokenize("ＧＩＳ Data 2024") == ["gis", "data", "2024"]


def test_punctuation_separates_runs():
    assert tokenize("人口、法人") == ["人口", "法人"]


def test_mixed_script_splits_at_script_boundary():
    assert tokenize("GIS地图") == ["gis", "地图"]


def test_term_weight_adds_up_per_field():
    terms = resource_terms("营业执照信息", "企业营业执照", ["营业执照"])
    assert terms["执照"] == NAME_WEIGHT + SUMMARY_WEIGHT + ITEM_WEIGHT
    assert terms["企业"] == SUMMARY_WEIGHT


def test_index_keeps_the_last_character_of_a_run_for_one_character_queries():
    assert tokenize("许可证", for_index=True) == ["许可", "可证", "证"]
    assert "证" in resource_terms("建设工程规划许可证", "", [])
