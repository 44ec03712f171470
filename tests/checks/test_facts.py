from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.facts import check_facts
from slmforge.checks.vocab import build_vocabulary, split_amount, subject_facts

from tests.checks.helpers import SUBJECT_ZH, make_kit


def codes(res):
    return [f.code for f in res.findings]


def test_record_parsing_splits_amounts_and_aliases():
    assert split_amount("10%烟酰胺") == ("烟酰胺", "10%")
    assert split_amount("锌PCA") == ("锌PCA", None)
    facts = subject_facts({**SUBJECT_ZH, "core_ingredients": ["洋甘菊精油", "0.2%视黄醇"]}, make_kit())
    assert {"洋甘菊精油", "洋甘菊", "视黄醇"} <= facts.terms["ingredients"]
    assert facts.amounts == {"视黄醇": "0.2%"}


def test_grounded_copy_passes():
    res = check_facts("净颜焕采精华含10%烟酰胺与锌PCA，红没药醇温和舒缓，适合油性痘痘肌。", subject=SUBJECT_ZH,
                      kit=make_kit())
    assert res.passed and res.score == 1.0 and codes(res) == []


def test_contradicted_number_with_offsets():
    text = "净颜焕采精华含15%烟酰胺，源头控油。"
    res = check_facts(text, subject=SUBJECT_ZH, kit=make_kit())
    assert codes(res) == ["contradicted_number"]
    f = res.findings[0]
    assert text[f.start:f.end] == "烟酰胺" and "10%" in f.message
    assert not res.passed and res.score == 0.5


def test_unsupported_number_is_weaker_than_contradiction():
    res = check_facts("净颜焕采精华含10%烟酰胺与2%红没药醇。", subject=SUBJECT_ZH, kit=make_kit())
    assert codes(res) == ["unsupported_number"]
    assert res.passed and 0.85 < res.score < 1.0


def test_foreign_ingredient_named_as_own_vs_mentioned():
    kit = make_kit()
    own = check_facts("净颜焕采精华含烟酰胺，协同角鲨烷舒缓泛红。", subject=SUBJECT_ZH, kit=kit)
    assert codes(own) == ["foreign_entity"] and not own.passed
    aside = check_facts("很多人以为神经酰胺才能保湿。", subject=SUBJECT_ZH, kit=kit)
    assert codes(aside) == ["unsupported_entity"] and aside.passed


def test_audience_stated_differently():
    kit = make_kit()
    res = check_facts("这款精华适合所有肤质。", subject=SUBJECT_ZH, kit=kit)
    assert codes(res) == ["contradicted_audience"]
    universal = {**SUBJECT_ZH, "target_audience": ["所有肤质", "特别是干性肌"]}
    assert check_facts("这款精华适合敏感肌。", subject=universal, kit=kit).passed


def test_vocabulary_from_catalog_recognises_other_products_ingredients():
    kit = make_kit(glossary={"ingredients": []})
    other = {**SUBJECT_ZH, "product_name": "柚子精华", "core_ingredients": ["柚子提取物", "维生素C"]}
    text = "净颜焕采精华含烟酰胺与维生素C。"
    assert check_facts(text, subject=SUBJECT_ZH, kit=kit).passed
    vocab = build_vocabulary(kit, [SUBJECT_ZH, other])
    assert codes(check_facts(text, subject=SUBJECT_ZH, kit=kit, vocab=vocab)) == ["foreign_entity"]


def test_reference_edits_find_number_entity_and_audience_swaps():
    kit = make_kit()
    tail = "精简有效的成分配比：控油更持久，痘印淡化加速，屏障修护更温和。点击了解经皮肤科测试的解决方案。"
    ref = "净颜焕采精华含10%高浓度烟酰胺与锌PCA，协同红没药醇舒缓泛红，帮助油性痘痘肌实现三重调控。" + tail
    cand = "净颜焕采精华含12%高浓度烟酰胺与锌PCA，协同角鲨烷舒缓泛红，帮助所有肤质实现三重调控。" + tail
    diff = reference_fact_edits(cand, ref, subject=SUBJECT_ZH, kit=kit)
    kinds = {(e.kind, e.reference, e.candidate) for e in diff.edits}
    assert ("number", "10%", "12%") in kinds
    assert ("entity", "红没药醇", "角鲨烷") in kinds
    assert ("audience", "油性痘痘肌", "所有肤质") in kinds
    for e in diff.edits:
        assert cand[e.start:e.end] == e.candidate
    assert diff.similarity > 0.85 and diff.is_minimal_fact_edit()


def test_reference_identical_and_unrelated_texts_are_not_fact_edits():
    kit = make_kit()
    ref = "净颜焕采精华含10%烟酰胺，源头控油。"
    same = reference_fact_edits(ref, ref, subject=SUBJECT_ZH, kit=kit)
    assert same.edits == [] and same.similarity == 1.0 and not same.is_minimal_fact_edit()
    other = reference_fact_edits("姐妹们！这瓶精华绝了！！！冲就完事！！！", ref, subject=SUBJECT_ZH, kit=kit)
    assert other.similarity < 0.5 and not other.is_minimal_fact_edit()


def test_facts_in_run_checks_reports_reference_edits():
    from slmforge.checks import run_checks

    kit = make_kit()
    ref = "净颜焕采精华含10%烟酰胺，源头控油，改善暗沉。"
    rep, = run_checks(["净颜焕采精华含15%烟酰胺，源头控油，改善暗沉。"], task=None, subject=SUBJECT_ZH, kit=kit,
                      references=[ref], checks=["facts"])
    facts = rep.results["facts"]
    assert facts.details["reference"]["minimal_fact_edit"] is True
    assert "fact_edit" in codes(facts) and "contradicted_number" in codes(facts)


# issue 18 item 4: mentions that are not claims about the product (each fails on the rules before it)

def test_avoided_or_compared_ingredient_is_not_named_as_own():
    kit = make_kit()
    for text in ("净颜焕采精华含10%烟酰胺，不含角鲨烷、神经酰胺等油脂成分。",
                 "净颜焕采精华告别厚重的角鲨烷，只用10%烟酰胺。",
                 "净颜焕采精华的10%烟酰胺，控油效率是普通角鲨烷配方的3倍。"):
        assert "foreign_entity" not in codes(check_facts(text, subject=SUBJECT_ZH, kit=kit)), text
    # a composition cue after the negation still names the formula's own
    assert "foreign_entity" in codes(check_facts("净颜焕采精华不含酒精，含角鲨烷。", subject=SUBJECT_ZH, kit=kit))


def test_a_substance_of_the_skin_itself_is_not_named_as_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "红没药醇", "胶原蛋白", "神经酰胺"]})
    for text in ("随着年龄增长胶原蛋白流失，净颜焕采精华用10%烟酰胺与锌PCA维稳。",
                 "净颜焕采精华含烟酰胺，帮助守护肌肤自身的神经酰胺屏障。"):
        assert check_facts(text, subject=SUBJECT_ZH, kit=kit).passed, text
    assert not check_facts("净颜焕采精华添加胶原蛋白，对抗流失。", subject=SUBJECT_ZH, kit=kit).passed


def test_recommending_another_catalog_product_is_not_a_foreign_entity():
    kit = make_kit(glossary={"ingredients": []})
    other = {**SUBJECT_ZH, "product_name": "角鲨烷修护面霜", "core_ingredients": ["角鲨烷", "神经酰胺"]}
    vocab = build_vocabulary(kit, [SUBJECT_ZH, other])
    text = "净颜焕采精华含10%烟酰胺，晚上搭配我们的角鲨烷修护面霜，神经酰胺锁住水分。"
    res = check_facts(text, subject=SUBJECT_ZH, kit=kit, vocab=vocab)
    assert res.passed and "foreign_entity" not in codes(res)


def test_an_audience_named_in_a_caveat_is_not_a_target():
    kit = make_kit()
    assert check_facts("净颜焕采精华适合油性痘痘肌，敏感肌建议先试用。", subject=SUBJECT_ZH, kit=kit).passed
    assert check_facts("作为敏感肌，我用净颜焕采精华两周没有泛红。", subject=SUBJECT_ZH, kit=kit).passed
    assert not check_facts("净颜焕采精华适合敏感肌。", subject=SUBJECT_ZH, kit=kit).passed


def test_a_substring_of_a_longer_word_is_not_an_ingredient():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "柠檬精油"]})
    res = check_facts("净颜焕采精华含10%烟酰胺，质地像柠檬酸一样清爽。", subject=SUBJECT_ZH, kit=kit)
    assert "foreign_entity" not in codes(res)


def test_numbers_that_differ_from_the_record_are_errors():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "棕榈酰三肽-1", "棕榈酰三肽-5"]})
    two = {**SUBJECT_ZH, "core_ingredients": ["10%烟酰胺", "2%锌PCA", "棕榈酰三肽-1"]}
    swapped = check_facts("净颜焕采精华含2%烟酰胺与10%锌PCA。", subject=two, kit=kit)
    assert codes(swapped) == ["contradicted_number", "contradicted_number"] and not swapped.passed
    changed = check_facts("净颜焕采精华烟酰胺浓度达12%。", subject=two, kit=kit)
    assert codes(changed) == ["contradicted_number"]
    code = check_facts("净颜焕采精华含棕榈酰三肽-5，紧致抗老。", subject=two, kit=kit)
    assert "contradicted_number" in codes(code) and not code.passed
    assert check_facts("净颜焕采精华含棕榈酰三肽-1与10%烟酰胺。", subject=two, kit=kit).passed


def test_synonyms_of_an_own_ingredient_are_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "透明质酸", "维生素C"]})
    hydra = {**SUBJECT_ZH, "core_ingredients": ["透明质酸", "10%烟酰胺"]}
    assert check_facts("净颜焕采精华含玻尿酸，补水不黏。", subject=hydra, kit=kit).passed
    assert not check_facts("净颜焕采精华含VC，提亮肤色。", subject=hydra, kit=kit).passed
    assert codes(check_facts("净颜焕采精华含12%维生素B3。", subject=hydra, kit=kit)) == ["contradicted_number"]


def test_an_ingredient_given_as_an_example_is_not_named_as_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "神经酰胺", "泛醇", "氧化锌", "二氧化钛"]})
    for text in ("净颜焕采精华含10%烟酰胺；控油时可与屏障修护成分（如神经酰胺、泛醇）复配。",
                 "物理防晒剂如氧化锌、二氧化钛偏厚重，净颜焕采精华只用10%烟酰胺与锌PCA。"):
        assert "foreign_entity" not in codes(check_facts(text, subject=SUBJECT_ZH, kit=kit)), text
    # 如何 is not an example cue, and a composition claim stays one
    assert "foreign_entity" in codes(check_facts("如何控油？净颜焕采精华含神经酰胺。", subject=SUBJECT_ZH, kit=kit))


def test_an_ingredient_naming_another_product_is_not_named_as_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "神经酰胺"]})
    text = "净颜焕采精华含10%烟酰胺与锌PCA，建议搭配同系列神经酰胺面霜。"
    assert "foreign_entity" not in codes(check_facts(text, subject=SUBJECT_ZH, kit=kit))
    assert "foreign_entity" in codes(check_facts("净颜焕采精华搭配神经酰胺，修护屏障。", subject=SUBJECT_ZH, kit=kit))


def test_other_amounts_beside_the_records_are_discussed_not_contradicted():
    kit = make_kit()
    text = "5%烟酰胺已能控油，高浓度不等于高功效；净颜焕采精华用10%烟酰胺与锌PCA。"
    res = check_facts(text, subject=SUBJECT_ZH, kit=kit)
    assert res.passed and codes(res) == ["compared_number"]
    # the record's amount stated only inside the product name does not excuse a changed one
    named = {**SUBJECT_ZH, "product_name": "10%烟酰胺精华"}
    assert "contradicted_number" in codes(check_facts("10%烟酰胺精华含15%烟酰胺。", subject=named, kit=kit))


def test_everyday_shorthand_of_an_own_audience_is_own():
    kit = make_kit(glossary={"audiences": ["干敏肌", "油痘肌", "敏感肌"]})
    dry = {**SUBJECT_ZH, "target_audience": ["干性敏感肌", "屏障受损肌肤"]}
    assert check_facts("净颜焕采精华含10%烟酰胺，专为干敏肌设计。", subject=dry, kit=kit).passed
    assert not check_facts("净颜焕采精华含10%烟酰胺，专为油痘肌设计。", subject=dry, kit=kit).passed


def test_a_constituent_listed_under_an_own_ingredient_heading_is_not_named_as_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "红没药醇", "山茶花提取物", "茶多酚"]})
    camellia = {**SUBJECT_ZH, "core_ingredients": ["10%烟酰胺", "山茶花提取物"]}
    text = "净颜焕采精华的配方：\n山茶花提取物：\n- 含茶多酚，抗氧化\n- 舒缓泛红"
    assert "foreign_entity" not in codes(check_facts(text, subject=camellia, kit=kit))


# issue 18 item 4, third round (kinds read on the dev half and the read quarter of the seed products)

def test_a_question_or_a_supposition_is_not_a_claim():
    kit = make_kit()
    for text in ("15%烟酰胺烂脸？净颜焕采精华用10%烟酰胺。",
                 "当20%烟酰胺导致泛红时，很多人选择硬扛；净颜焕采精华含10%烟酰胺。",
                 "净颜焕采精华还要加角鲨烷吗？它只含10%烟酰胺与锌PCA。"):
        res = check_facts(text, subject=SUBJECT_ZH, kit=kit)
        assert res.passed and not {"contradicted_number", "foreign_entity"} & set(codes(res)), text
    # 当然 is not a supposition, and a stated amount stays a claim
    assert not check_facts("当然，净颜焕采精华含20%烟酰胺。", subject=SUBJECT_ZH, kit=kit).passed


def test_a_range_of_amounts_is_discussed_and_agrees_when_it_holds_the_records():
    kit = make_kit()
    assert codes(check_facts("从低浓度（5%-12%烟酰胺）开始建立耐受；净颜焕采精华含10%烟酰胺。",
                             subject=SUBJECT_ZH, kit=kit)) == []
    res = check_facts("文献显示2～5%烟酰胺就能控油。", subject=SUBJECT_ZH, kit=kit)
    assert res.passed and codes(res) == ["compared_number"]
    en = make_kit("en", glossary={"ingredients": ["niacinamide"]})
    serum = {"product_name": "Clear Serum", "core_ingredients": ["5% niacinamide"]}
    assert check_facts("Studies use 2% to 4% niacinamide.", subject=serum, kit=en).passed


def test_a_gloss_in_parentheses_is_not_the_formula_unless_it_holds_an_own_ingredient():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "锌PCA", "氧化锌", "二氧化钛", "角鲨烷"]})
    text = "物理防晒（二氧化钛、氧化锌）确实温和，但防晒精华不该厚重。"
    assert "foreign_entity" not in codes(check_facts(text, subject=SUBJECT_ZH, kit=kit))
    mixed = "净颜焕采精华的控油成分（锌PCA、角鲨烷）协同作用。"
    assert "foreign_entity" in codes(check_facts(mixed, subject=SUBJECT_ZH, kit=kit))


def test_constituents_listed_under_an_own_ingredient_are_not_named_as_own():
    kit = make_kit(glossary={"ingredients": ["烟酰胺", "山茶花提取物", "茶多酚", "山茶皂苷", "角鲨烷"]})
    camellia = {**SUBJECT_ZH, "core_ingredients": ["10%烟酰胺", "山茶花提取物"]}
    for text in ("山茶花提取物富含多种活性成分，包括：\n- 茶多酚：抗氧化\n- 山茶皂苷：舒缓\n\n净颜焕采精华含10%烟酰胺。",
                 "核心成分解析：山茶花提取物\n\n1️⃣ 含油酸，亲肤\n2️⃣ 富含茶多酚，抗氧化"):
        assert "foreign_entity" not in codes(check_facts(text, subject=camellia, kit=kit)), text
    # a foreign ingredient heading an item of the formula's list is named as the product's own
    listed = "净颜焕采精华的配方：\n1️⃣ 烟酰胺：控油\n2️⃣ 角鲨烷：给油皮补一层薄油"
    assert "foreign_entity" in codes(check_facts(listed, subject=camellia, kit=kit))
    # so does the head of one clause of an enumeration whose other clauses start with own ingredients
    enum = "烟酰胺控油肉眼可见；角鲨烷淡淡清香让人放松；山茶花提取物温和舒缓。"
    assert "foreign_entity" in codes(check_facts(enum, subject=camellia, kit=kit))
    assert "foreign_entity" not in codes(check_facts("天气干燥；角鲨烷很常见。", subject=camellia, kit=kit))


def test_the_class_of_an_own_ingredient_is_own():
    kit = make_kit(glossary={"ingredients": ["乙酰基六肽-8", "多肽复合物", "神经酰胺复合物"]})
    peptides = {**SUBJECT_ZH, "core_ingredients": ["乙酰基六肽-8", "棕榈酰三肽-1"]}
    assert check_facts("净颜焕采精华通过精准配比的多肽复合物抗老。", subject=peptides, kit=kit).passed
    assert not check_facts("净颜焕采精华含神经酰胺复合物。", subject=peptides, kit=kit).passed


def test_audiences_as_conditions_targets_and_special_groups():
    kit = make_kit(glossary={"ingredients": ["烟酰胺"], "audiences": ["眼周干燥", "敏感肌", "混合肌", "干性肌", "油性肌",
                                                                   "所有肤质"]})
    # a condition the copy describes is not whom the product is for; a target of that condition is
    assert check_facts("调研发现，83%的用户存在眼周干燥、刺痒等问题。", subject=SUBJECT_ZH, kit=kit).passed
    assert not check_facts("净颜焕采精华适合有眼周干燥问题的人。", subject=SUBJECT_ZH, kit=kit).passed
    # 救星 / 友好 after an audience make it a target, in a hashtag too
    assert not check_facts("#精简护肤 #混合肌救星", subject=SUBJECT_ZH, kit=kit).passed
    assert not check_facts("#敏感肌友好", subject=SUBJECT_ZH, kit=kit).passed
    # a record for everyone with one special group: singling out another group contradicts it
    everyone = {**SUBJECT_ZH, "target_audience": ["所有肤质", "特别是干性肌"]}
    assert check_facts("所有肤质均可使用，尤其适合干性肌肤。", subject=everyone, kit=kit).passed
    assert not check_facts("所有肤质均可使用，尤其适合油性肌肤。", subject=everyone, kit=kit).passed
    assert check_facts("油性肌也能用。", subject=everyone, kit=kit).passed
    only_everyone = {**SUBJECT_ZH, "target_audience": ["所有肤质"]}
    assert check_facts("所有肤质均可使用，尤其适合油性肌肤。", subject=only_everyone, kit=kit).passed
    # claiming everyone for a record of one group still contradicts it
    assert not check_facts("净颜焕采精华适合所有肤质。", subject=SUBJECT_ZH, kit=kit).passed
