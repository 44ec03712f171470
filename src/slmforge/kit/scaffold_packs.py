"""The per-language content of ``slmforge kit init``: voice, lexicon, a 5-product catalog and 5 golden texts
per language (en, zh, ja, ko), each written to pass the scaffolded kit's own checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguagePack:
    """The placeholder text of a starter kit in one language.

    Attributes:
        persona / principles / guide: the voice.
        prefer / avoid: the lexicon.
        field_help: catalog field → description (shown in the playground).
        products: 5 rows of ``slmforge.kit.scaffold.FIELDS`` (list fields joined with ``|``).
        golden: one description per product, in catalog order; each passes the kit's checks.
        foreign: materials no product has, named in the glossary so that copy claiming them is caught.
        task_description: what the task is, for people.
        student_template / teacher_template: the task's Jinja2 templates.
        criteria: rubric criteria as ``(name, description, {1: …, 3: …, 5: …})``.
        min_chars / max_chars: length range of a description in characters.
    """

    persona: str
    principles: list[str]
    guide: str
    prefer: list[str]
    avoid: list[str]
    field_help: dict[str, str]
    products: list[list[str]]
    golden: list[str]
    foreign: list[str]
    task_description: str
    student_template: str
    teacher_template: str
    criteria: list[tuple[str, str, dict[int, str]]]
    min_chars: int
    max_chars: int


EN = LanguagePack(
    persona="a friendly shopkeeper who knows every product on the shelf and never oversells",
    principles=["Concrete: name the material and what it does for the customer.",
                "Honest: only facts from the product record; no invented numbers, materials or claims.",
                "Calm: no hype, no fake urgency, no exclamation marks.",
                "Short: one or two sentences, every word carries information."],
    guide="Write as if handing the product across the counter: what it is made of, what it does well, who it "
          "suits. Use the product name exactly as the catalog spells it.\n",
    prefer=["simple", "daily", "made to last", "practical", "everyday"],
    avoid=["amazing", "game-changer", "must-have", "revolutionary", "insane", "miracle", "best ever"],
    field_help={"product_name": "product name (unique)", "category": "category, e.g. kitchen, coffee, home",
                "materials": "materials the product is made of", "features": "product features",
                "audience": "who the product is for"},
    products=[["Oak Cutting Board", "kitchen", "oak", "end-grain surface that is kind to knives|juice groove|"
               "finished with food-safe oil", "home cooks"],
              ["Linen Tea Towel", "kitchen", "linen", "dries quickly|gets softer with every wash|hanging loop",
               "home cooks|small kitchens"],
              ["Ceramic Pour-Over Dripper", "coffee", "ceramic", "holds heat while brewing|fits most mugs|"
               "dishwasher safe", "coffee drinkers"],
              ["Steel Lunch Box", "storage", "stainless steel|silicone", "leak-resistant silicone seal|"
               "two compartments|no plastic taste", "commuters|students"],
              ["Cotton Throw Blanket", "home", "cotton", "herringbone weave|machine washable|150 x 200 cm",
               "families"]],
    golden=["The Oak Cutting Board has an end-grain oak surface that is kind to knives, and its juice groove "
            "keeps the counter dry. It comes finished with food-safe oil, ready for daily use.",
            "The Linen Tea Towel dries quickly and gets softer with every wash. A hanging loop keeps it within "
            "reach, even in small kitchens.",
            "The Ceramic Pour-Over Dripper holds heat while your coffee brews and fits most mugs. When you are "
            "done, it goes straight into the dishwasher.",
            "The Steel Lunch Box pairs stainless steel with a leak-resistant silicone seal and two compartments, "
            "so lunch travels well and has no plastic taste.",
            "The Cotton Throw Blanket is a herringbone weave of soft cotton, 150 x 200 cm and machine washable: "
            "a simple everyday layer for the sofa."],
    foreign=["bamboo", "marble", "walnut", "glass"],
    task_description="Product page description: one or two sentences on what it is made of, what it does and "
                     "whom it suits.",
    student_template='Write a short product description for {{ kit.brand }}\'s {{ subject.product_name }}'
                     '{% if value %}, focused on "{{ value }}"{% endif %}.\n\n{{ subject_json }}',
    teacher_template="""You write product copy for {{ kit.brand }}. You are {{ kit.voice.persona }}.
Principles:
{% for p in kit.voice.principles %}- {{ p }}
{% endfor %}Never use: {{ kit.lexicon.avoid | join(', ') }}

Product facts (use only these; add no material, feature or audience):
- name: {{ subject.product_name }}
- category: {{ subject.category }}
- materials: {{ subject.materials | join(', ') }}
- features: {{ subject.features | join(', ') }}
- made for: {{ subject.audience | join(', ') or 'not stated (name no audience)' }}
{% if value %}- focus on: {{ value }}
{% endif %}
Task: write a product description of one or two sentences ({{ task.constraints.min_chars }} to \
{{ task.constraints.max_chars }} characters) that names the product exactly. No emoji, no hashtags, \
no exclamation marks.
{% if examples %}
Reference descriptions (learn the tone and length; do not reuse their wording):
{% for e in examples %}[Example {{ loop.index }}] {{ e }}
{% endfor %}{% endif %}
Reply with one JSON object only: {"text": "the description"}
""",
    criteria=[("brand_voice", "calm, concrete, friendly; no hype and no avoided terms",
               {1: "hype, avoided terms or fake urgency", 3: "neutral but flat", 5: "calm, concrete and warm"}),
              ("factual_grounding", "only facts from the product record",
               {1: "invents a material, number or feature", 3: "mostly right, one unsupported claim",
                5: "every fact is in the record"}),
              ("clarity", "one or two clear sentences within the length limit",
               {1: "too long or hard to follow", 3: "clear but padded", 5: "short, clear and complete"})],
    min_chars=60, max_chars=240,
)

ZH = LanguagePack(
    persona="一位熟悉店里每件商品、从不夸大其词的店主",
    principles=["具体：写清材质，以及它给顾客带来的实际用处。", "真实：只写商品信息里的事实，不编造数字、材质或功效。",
                "平和：不夸张，不制造紧迫感，不用感叹号。", "简短：一两句话，每个字都有信息。"],
    guide="像把商品递给顾客时那样介绍它：用什么做的，好在哪里，适合谁。商品名按目录里的写法原样使用。\n",
    prefer=["简单", "日常", "耐用", "实用", "安心"],
    avoid=["神器", "绝绝子", "天花板", "闭眼入", "yyds", "秒杀", "逆天"],
    field_help={"product_name": "商品名（唯一）", "category": "品类，如 厨房、咖啡、家居", "materials": "材质",
                "features": "商品特点", "audience": "适用人群"},
    products=[["橡木砧板", "厨房", "橡木", "端面木纹不伤刀|带导流槽|食品级木蜡油养护", "家庭厨师"],
              ["亚麻茶巾", "厨房", "亚麻", "吸水快干|越洗越柔软|带挂绳", "家庭厨师|小厨房"],
              ["陶瓷手冲滤杯", "咖啡", "陶瓷", "冲煮时保温|适配大多数马克杯|可用洗碗机清洗", "咖啡爱好者"],
              ["不锈钢饭盒", "收纳", "不锈钢|硅胶", "硅胶密封圈防漏|双格设计|没有塑料味", "通勤族|学生"],
              ["纯棉盖毯", "家居", "棉", "人字纹织法|可机洗|150×200厘米", "家庭"]],
    golden=["橡木砧板采用端面木纹，下刀时不伤刀刃；导流槽收住汁水，台面保持干净。出厂前已用食品级木蜡油养护，到手即可日常使用。",
            "亚麻茶巾吸水快干，越洗越柔软。一端带挂绳，挂在小厨房的墙边，随手就能取用。",
            "陶瓷手冲滤杯在冲煮时保温，适配大多数马克杯，用完放进洗碗机清洗即可，日常使用很简单。",
            "不锈钢饭盒用不锈钢制成，配硅胶密封圈防漏，双格设计让饭菜分开装，也没有塑料味。",
            "纯棉盖毯用棉线以人字纹织法织成，尺寸150×200厘米，可机洗，是沙发上实用的日常盖毯。"],
    foreign=["竹", "大理石", "胡桃木", "玻璃"],
    task_description="商品详情页介绍：用一两句话写清材质、用处和适合的人。",
    student_template="请为{{ kit.brand }}的{{ subject.product_name }}写一段简短的商品介绍"
                     "{% if value %}，突出“{{ value }}”{% endif %}。\n\n{{ subject_json }}",
    teacher_template="""你为{{ kit.brand }}撰写商品文案。你的身份：{{ kit.voice.persona }}。
原则：
{% for p in kit.voice.principles %}- {{ p }}
{% endfor %}禁止使用：{{ kit.lexicon.avoid | join('、') }}

商品信息（只使用这些事实，不添加任何材质、特点或人群）：
- 商品名：{{ subject.product_name }}
- 品类：{{ subject.category }}
- 材质：{{ subject.materials | join('、') }}
- 特点：{{ subject.features | join('、') }}
- 适用人群：{{ subject.audience | join('、') or '未注明（不要写人群）' }}
{% if value %}- 重点突出：{{ value }}
{% endif %}
任务：写一段一两句话的商品介绍（{{ task.constraints.min_chars }}到{{ task.constraints.max_chars }}个字），\
准确写出商品名。不用表情符号、话题标签和感叹号。
{% if examples %}
参考文案（学习语气和长度，不要照搬措辞）：
{% for e in examples %}[例{{ loop.index }}] {{ e }}
{% endfor %}{% endif %}
只回复一个 JSON 对象：{"text": "商品介绍"}
""",
    criteria=[("brand_voice", "平和、具体、亲切；不夸张，不用禁用词",
               {1: "夸张、使用禁用词或制造紧迫感", 3: "中规中矩但平淡", 5: "平和、具体、有温度"}),
              ("factual_grounding", "只写商品信息里的事实",
               {1: "编造材质、数字或特点", 3: "基本准确，有一处无依据的说法", 5: "每个事实都来自商品信息"}),
              ("clarity", "一两句清楚的话，不超过字数限制",
               {1: "过长或难以理解", 3: "清楚但有冗余", 5: "简短、清楚、完整"})],
    min_chars=30, max_chars=120,
)

JA = LanguagePack(
    persona="店に並ぶすべての商品を知っていて、決して大げさに言わない店主",
    principles=["具体的に：素材と、それがお客さまの暮らしにどう役立つかを書きます。",
                "正直に：商品情報にある事実だけを書き、数字や素材や効果を作りません。",
                "落ち着いて：あおらない、急がせない、感嘆符を使いません。", "短く：一、二文で、どの言葉にも情報があります。"],
    guide="商品をお客さまに手渡すときのように紹介します。何でできているか、何が良いか、誰に向いているか。"
          "商品名はカタログの表記のまま使います。\n",
    prefer=["シンプル", "毎日", "長く使える", "使いやすい", "暮らし"],
    avoid=["神アイテム", "最強", "激安", "絶対", "奇跡", "爆売れ", "今だけ"],
    field_help={"product_name": "商品名（一意）", "category": "カテゴリ（例：キッチン、コーヒー、インテリア）",
                "materials": "素材", "features": "商品の特長", "audience": "向いている人"},
    products=[["オーク材のまな板", "キッチン", "オーク材", "刃あたりのやさしい木口面|汁受けの溝付き|食品用オイルで仕上げ済み",
               "料理をする人"],
              ["リネンのティータオル", "キッチン", "リネン", "乾きが早い|洗うほど柔らかくなる|吊り下げ用ループ付き",
               "料理をする人|小さなキッチン"],
              ["陶器のドリッパー", "コーヒー", "陶器", "抽出中も冷めにくい|ほとんどのマグに合う|食洗機対応", "コーヒー好き"],
              ["ステンレスのお弁当箱", "保存容器", "ステンレス|シリコーン",
               "汁もれしにくいシリコーンパッキン|二段の仕切り|プラスチックのにおいがしない", "通勤する人|学生"],
              ["コットンのブランケット", "インテリア", "コットン", "ヘリンボーン織り|洗濯機で洗える|150×200cm", "家族"]],
    golden=["オーク材のまな板は刃あたりのやさしい木口面で、汁受けの溝が調理台を汚しません。食品用オイルで仕上げ済みなので、届いた日から毎日使えます。",
            "リネンのティータオルは乾きが早く、洗うほど柔らかくなります。吊り下げ用ループ付きで、小さなキッチンでもすぐ手に取れます。",
            "陶器のドリッパーは抽出中も冷めにくく、ほとんどのマグに合います。使ったあとは食洗機で洗えるので、毎日のコーヒーがシンプルです。",
            "ステンレスのお弁当箱は汁もれしにくいシリコーンパッキンと二段の仕切り付き。プラスチックのにおいがしないので、お弁当の味がそのままです。",
            "コットンのブランケットはヘリンボーン織りで、サイズは150×200cm。洗濯機で洗えるので、ソファで毎日気軽に使えます。"],
    foreign=["竹", "大理石", "ウォルナット", "ガラス"],
    task_description="商品ページの紹介文：素材、役立つ点、向いている人を一、二文で。",
    student_template="{{ kit.brand }}の{{ subject.product_name }}の短い商品紹介文を書いてください"
                     "{% if value %}（伝えたい価値：{{ value }}）{% endif %}。\n\n{{ subject_json }}",
    teacher_template="""あなたは{{ kit.brand }}の商品コピーを書きます。話し手：{{ kit.voice.persona }}
原則：
{% for p in kit.voice.principles %}- {{ p }}
{% endfor %}使わない言葉：{{ kit.lexicon.avoid | join('、') }}

商品情報（ここにある事実だけを使い、素材・特長・対象を付け加えないでください）：
- 商品名：{{ subject.product_name }}
- カテゴリ：{{ subject.category }}
- 素材：{{ subject.materials | join('、') }}
- 特長：{{ subject.features | join('、') }}
- 向いている人：{{ subject.audience | join('、') or '記載なし（対象は書かない）' }}
{% if value %}- 伝えたい価値：{{ value }}
{% endif %}
課題：商品名を正確に入れて、一、二文の商品紹介文を書いてください\
（{{ task.constraints.min_chars }}〜{{ task.constraints.max_chars }}文字）。絵文字、ハッシュタグ、感嘆符は使いません。
{% if examples %}
参考の紹介文（口調と長さだけ参考にし、表現は借りないでください）：
{% for e in examples %}[例{{ loop.index }}] {{ e }}
{% endfor %}{% endif %}
JSON オブジェクト一つだけで答えてください：{"text": "紹介文"}
""",
    criteria=[("brand_voice", "落ち着いていて具体的、親しみがある；あおらず、使わない言葉がない",
               {1: "誇張、使わない言葉、急がせる表現", 3: "無難だが平板", 5: "落ち着いていて具体的で温かい"}),
              ("factual_grounding", "商品情報にある事実だけ",
               {1: "素材・数字・特長を作っている", 3: "おおむね正確だが根拠のない表現が一つ", 5: "すべての事実が商品情報にある"}),
              ("clarity", "文字数の範囲内で、一、二文の分かりやすい文",
               {1: "長すぎる、または分かりにくい", 3: "分かりやすいが冗長", 5: "短く、分かりやすく、過不足がない"})],
    min_chars=30, max_chars=120,
)

KO = LanguagePack(
    persona="가게에 있는 모든 물건을 잘 알고, 절대 과장하지 않는 주인장",
    principles=["구체적으로: 소재와, 그 소재가 손님에게 어떻게 쓸모 있는지 써요.",
                "솔직하게: 상품 정보에 있는 사실만 쓰고, 숫자·소재·효과를 지어내지 않아요.",
                "차분하게: 과장하지 않고, 재촉하지 않고, 느낌표를 쓰지 않아요.", "짧게: 한두 문장, 모든 말에 정보가 있어요."],
    guide="물건을 손님에게 건네며 설명하듯 써요. 무엇으로 만들었는지, 무엇이 좋은지, 누구에게 맞는지. "
          "상품명은 카탈로그에 적힌 그대로 써요.\n",
    prefer=["매일", "오래", "기본", "편하게", "살림"],
    avoid=["대박", "인생템", "끝판왕", "필수템", "갓성비", "역대급", "미쳤다"],
    field_help={"product_name": "상품명 (고유)", "category": "분류 (예: 주방, 커피, 홈)", "materials": "소재",
                "features": "특징", "audience": "주 고객"},
    products=[["오크 도마", "주방", "오크", "칼날에 부드러운 엔드그레인 면|즙 받이 홈|식품용 오일로 마감", "요리하는 사람"],
              ["린넨 행주", "주방", "린넨", "빨리 마름|빨수록 부드러워짐|걸이 고리", "요리하는 사람|작은 부엌"],
              ["도자기 드리퍼", "커피", "도자기", "추출하는 동안 온기 유지|대부분의 머그에 맞음|식기세척기 사용 가능",
               "커피 애호가"],
              ["스테인리스 도시락", "보관", "스테인리스|실리콘", "국물이 새지 않는 실리콘 패킹|두 칸 구성|플라스틱 냄새 없음",
               "직장인|학생"],
              ["면 블랭킷", "홈", "면", "헤링본 짜임|세탁기 세탁 가능|150×200cm", "가족"]],
    golden=["오크 도마는 칼날에 부드러운 엔드그레인 면이고, 즙 받이 홈이 조리대를 깨끗하게 지켜 줘요. 식품용 오일로 마감해서 받은 날부터 매일 쓸 수 있어요.",
            "린넨 행주는 빨리 마르고 빨수록 부드러워져요. 걸이 고리가 있어서 작은 부엌에서도 손 닿는 곳에 걸어 둘 수 있어요.",
            "도자기 드리퍼는 추출하는 동안 온기를 지켜 주고 대부분의 머그에 맞아요. 다 쓴 뒤에는 식기세척기로 편하게 씻으면 돼요.",
            "스테인리스 도시락은 국물이 새지 않는 실리콘 패킹과 두 칸 구성이라 반찬이 섞이지 않아요. 플라스틱 냄새 없이 매일 쓰기 좋아요.",
            "면 블랭킷은 헤링본 짜임에 크기는 150×200cm예요. 세탁기 세탁이 가능해서 소파에 두고 매일 편하게 덮어요."],
    foreign=["대나무", "대리석", "월넛", "유리"],
    task_description="상품 상세 소개: 소재, 쓰임, 맞는 사람을 한두 문장으로.",
    student_template="{{ kit.brand }}의 {{ subject.product_name }} 상품 소개를 짧게 써 주세요"
                     "{% if value %} (담을 가치: {{ value }}){% endif %}.\n\n{{ subject_json }}",
    teacher_template="""당신은 {{ kit.brand }}의 상품 카피를 써요. 말하는 사람: {{ kit.voice.persona }}
원칙:
{% for p in kit.voice.principles %}- {{ p }}
{% endfor %}쓰지 않는 말: {{ kit.lexicon.avoid | join(', ') }}

상품 정보 (여기 있는 사실만 쓰고, 소재·특징·고객층을 덧붙이지 마세요):
- 상품명: {{ subject.product_name }}
- 분류: {{ subject.category }}
- 소재: {{ subject.materials | join(', ') }}
- 특징: {{ subject.features | join(', ') }}
- 주 고객: {{ subject.audience | join(', ') or '적혀 있지 않음 (고객층을 쓰지 마세요)' }}
{% if value %}- 담을 가치: {{ value }}
{% endif %}
할 일: 상품명을 정확히 넣어 한두 문장의 상품 소개를 써 주세요 \
(공백 포함 {{ task.constraints.min_chars }}~{{ task.constraints.max_chars }}자). 이모지, 해시태그, 느낌표는 쓰지 않아요.
{% if examples %}
참고 소개 (말투와 길이만 참고하고 표현은 가져오지 마세요):
{% for e in examples %}[예시 {{ loop.index }}] {{ e }}
{% endfor %}{% endif %}
JSON 객체 하나로만 답하세요: {"text": "상품 소개"}
""",
    criteria=[("brand_voice", "차분하고 구체적이며 다정한 말투; 과장과 쓰지 않는 말이 없음",
               {1: "과장, 쓰지 않는 말, 재촉", 3: "무난하지만 밋밋함", 5: "차분하고 구체적이며 따뜻함"}),
              ("factual_grounding", "상품 정보에 있는 사실만",
               {1: "소재·숫자·특징을 지어냄", 3: "대체로 맞지만 근거 없는 말이 하나", 5: "모든 사실이 상품 정보에 있음"}),
              ("clarity", "글자 수 안에서 한두 문장으로 분명하게",
               {1: "너무 길거나 이해하기 어려움", 3: "분명하지만 군더더기가 있음", 5: "짧고 분명하며 빠짐없음"})],
    min_chars=30, max_chars=150,
)

PACKS: dict[str, LanguagePack] = {"en": EN, "zh": ZH, "ja": JA, "ko": KO}
"""Primary language subtag → the starter text (``zh-Hans`` and ``en-GB`` use ``zh`` and ``en``)."""
