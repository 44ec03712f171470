"""Small kits built in code for the checks tests (no files needed)."""

from __future__ import annotations

from typing import Any

from slmforge.kit.schema import Kit

SUBJECT_ZH = {"product_name": "净颜焕采精华", "category": "精华", "core_ingredients": ["10%烟酰胺", "锌PCA", "红没药醇"],
              "features": ["高浓度烟酰胺", "源头控油", "改善暗沉"], "target_audience": ["油性痘痘肌"]}


def make_kit(language: str = "zh", *, constraints: dict[str, Any] | None = None, checks: dict[str, Any] | None = None,
             glossary: dict[str, list[str]] | None = None) -> Kit:
    """A one-task kit with the seed brand's lexicon (zh) or an English one."""
    lexicon = ({"prefer": "屏障 修护 科学 精简 配方 浓度 源头 温和".split(), "avoid": "神器 逆天 奇迹 秒杀 绝绝子 yyds 家人们".split()}
               if language != "en" else {"prefer": ["origin", "harvest"], "avoid": ["miracle", "insane", "game-changer"]})
    task = {"id": "ad", "family": "paid_ad", "student_template": "x", "teacher_template": "x",
            "rubric": {"criteria": [{"name": "a", "description": "a", "anchors": {1: "bad", 5: "good"}}]},
            "constraints": constraints or {}}
    return Kit.model_validate({
        "name": "原素方程" if language != "en" else "Northwind", "language": language, "voice": {"persona": "p"},
        "lexicon": lexicon, "tasks": [task], "checks": checks or {},
        "glossary": glossary or {"ingredients": ["烟酰胺", "锌PCA", "红没药醇", "角鲨烷", "神经酰胺", "洋甘菊精油"],
                                 "audiences": ["所有肤质", "油性痘痘肌", "敏感肌", "干性肌"]},
        "catalog": {"path": "x.csv", "id_field": "product_name", "fields": [{"name": "product_name"}]},
    })
