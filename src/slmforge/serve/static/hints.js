// slmforge playground: hints in the kit's language (en, zh, ja, ko; others get English). The kit info
// (/v1/kit) brings what the checks use — the length unit, the call-to-action cues the CTA check accepts, the
// style check's punctuation limits, the disclaimer — and this file words them. Lengths are counted as the
// constraints check counts them: extended grapheme clusters of the trimmed text, line breaks not counted.
"use strict";

// Rough characters per token of each language in the tokenizers small models ship with (English BPE
// ≈ 4 characters a token; Chinese, Japanese, Korean ≈ 1.5); other languages: 3.
const CHARS_PER_TOKEN = { en: 4, zh: 1.5, ja: 1.5, ko: 1.5 };
const TOKEN_HEADROOM = 1.3;  // 30 % over the estimate: a cut-off draft is worse than one the length check flags
const NO_LIMIT_TOKENS = 256;  // tasks without max_chars

const HINTS = {
  en: {
    separate: (s) => "(separate with " + s + ")",
    constraints: "Constraints: ",
    join: "; ",
    c: {
      min_chars: (n, u) => "at least " + n + " " + u, max_chars: (n, u) => "at most " + n + " " + u,
      min_lines: (n) => "at least " + n + " lines", max_lines: (n) => "at most " + n + " lines",
      cta_required: (v, cues) => v ? "a call to action" + (cues.length ? " (e.g. " + cues.join(" / ") + ")" : "") : "",
      emoji_allowed: (v) => v ? "" : "no emoji",
      hashtags_min: (n) => "at least " + n + " hashtags",
      hashtags_max: (n) => n === 0 ? "no hashtags" : "at most " + n + " hashtags",
      newlines_allowed: (v) => v ? "" : "one line", forbidden_chars: (v) => "never " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "no markdown headings" : "",
    },
    punctuation: "Punctuation: ",
    marks: "",  // English has no full-/half-width convention to state
    exclamations: (n) => n === 0 ? "no exclamation marks" : "at most " + n + " exclamation mark" + (n > 1 ? "s" : ""),
    run: (k) => k === 1 ? "no !! or ?!" : "at most " + k + " ! or ? in a row",
    disclaimer: (d) => "last line: \u201c" + d + "\u201d",
    length: (n, u, range) => n + " " + u + (range ? " (" + range + ")" : ""),
    range: (lo, hi) => lo && hi ? lo + "\u2013" + hi : (hi ? "at most " + hi : "at least " + lo),
    tokens: (t, chars, cpt, u) => "≈ " + t + " tokens: " + chars + " " + u + " at ~" + cpt + " " + u + " a token, +30 %",
    noLimit: (t) => "no length limit in this task: " + t + " tokens",
    general: "— a general question —",
    ask: "Your question (Enter sends, Shift+Enter: new line)",
    valuePlaceholder: "optional: one value to convey",
  },
  zh: {
    separate: (s) => "（用 " + s + " 分隔）",
    constraints: "要求：",
    join: "；",
    c: {
      min_chars: (n, u) => "至少" + n + u, max_chars: (n, u) => "不超过" + n + u,
      min_lines: (n) => "至少" + n + "行", max_lines: (n) => "最多" + n + "行",
      cta_required: (v, cues) => v ? "需要行动号召" + (cues.length ? "（如 " + cues.join(" / ") + "）" : "") : "",
      emoji_allowed: (v) => v ? "" : "不用表情符号",
      hashtags_min: (n) => "至少" + n + "个话题标签",
      hashtags_max: (n) => n === 0 ? "不用话题标签" : "最多" + n + "个话题标签",
      newlines_allowed: (v) => v ? "" : "不换行", forbidden_chars: (v) => "不用 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "不用 Markdown 标题" : "",
    },
    punctuation: "标点：",
    marks: "用全角标点（，。？！）",
    exclamations: (n) => n === 0 ? "不用感叹号" : "感叹号最多" + n + "个",
    run: (k) => k === 1 ? "不连用！？" : "！？连用不超过" + k + "个",
    disclaimer: (d) => "最后一行写「" + d + "」",
    length: (n, u, range) => n + u + (range ? "（" + range + "）" : ""),
    range: (lo, hi) => lo && hi ? lo + "–" + hi : (hi ? "不超过" + hi : "至少" + lo),
    tokens: (t, chars, cpt, u) => "约 " + t + " 个 token：" + chars + " " + u + "，按每个 token 约 " + cpt + " " + u + "估算，另留 30% 余量",
    noLimit: (t) => "此任务没有字数上限：" + t + " 个 token",
    general: "不指定（一般问题）",
    ask: "输入问题（Enter 发送，Shift+Enter 换行）",
    valuePlaceholder: "可选：要突出的一个卖点",
  },
  ja: {
    separate: (s) => "（" + s + " で区切る）",
    constraints: "条件：",
    join: "、",
    c: {
      min_chars: (n, u) => n + u + "以上", max_chars: (n, u) => n + u + "以内",
      min_lines: (n) => n + "行以上", max_lines: (n) => n + "行以内",
      cta_required: (v, cues) => v ? "行動喚起を入れる" + (cues.length ? "（例：" + cues.join("／") + "）" : "") : "",
      emoji_allowed: (v) => v ? "" : "絵文字なし",
      hashtags_min: (n) => "ハッシュタグ" + n + "個以上",
      hashtags_max: (n) => n === 0 ? "ハッシュタグなし" : "ハッシュタグ" + n + "個まで",
      newlines_allowed: (v) => v ? "" : "改行なし", forbidden_chars: (v) => "使わない文字 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "見出しなし" : "",
    },
    punctuation: "句読点：",
    marks: "全角の「、」「。」を使う",
    exclamations: (n) => n === 0 ? "感嘆符なし" : "感嘆符は" + n + "個まで",
    run: (k) => k === 1 ? "「！」「？」を重ねない" : "「！」「？」の連続は" + k + "個まで",
    disclaimer: (d) => "最後の行は免責文「" + d + "」",
    length: (n, u, range) => n + u + (range ? "（" + range + "）" : ""),
    range: (lo, hi) => lo && hi ? lo + "〜" + hi : (hi ? hi + "以内" : lo + "以上"),
    tokens: (t, chars, cpt, u) => "約" + t + "トークン：" + chars + u + "、1トークン約" + cpt + u + "で見積もり、30%の余裕込み",
    noLimit: (t) => "このタスクには文字数の上限がありません：" + t + "トークン",
    general: "指定なし（一般的な質問）",
    ask: "質問を入力（Enter で送信、Shift+Enter で改行）",
    valuePlaceholder: "任意：伝えたい価値を一つ",
  },
  ko: {
    separate: (s) => "(" + s + " 로 구분)",
    constraints: "조건: ",
    join: ", ",
    c: {
      min_chars: (n, u) => n + u + " 이상", max_chars: (n, u) => n + u + " 이내",
      min_lines: (n) => n + "줄 이상", max_lines: (n) => n + "줄 이내",
      cta_required: (v, cues) => v ? "행동 유도 문구 필요" + (cues.length ? " (예: " + cues.join(" / ") + ")" : "") : "",
      emoji_allowed: (v) => v ? "" : "이모지 없음",
      hashtags_min: (n) => "해시태그 " + n + "개 이상",
      hashtags_max: (n) => n === 0 ? "해시태그 없음" : "해시태그 " + n + "개 이하",
      newlines_allowed: (v) => v ? "" : "줄바꿈 없음", forbidden_chars: (v) => "쓰지 않는 문자 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "마크다운 제목 없음" : "",
    },
    punctuation: "문장부호: ",
    marks: "반각(. , ? !)으로 쓰기, 글자 수는 공백 포함",
    exclamations: (n) => n === 0 ? "느낌표 없음" : "느낌표 최대 " + n + "개",
    run: (k) => k === 1 ? "!·? 겹쳐 쓰지 않기" : "!·? 연속 " + k + "개까지",
    disclaimer: (d) => "마지막 줄에 면책 문구 「" + d + "」",
    length: (n, u, range) => n + u + (range ? " (" + range + ")" : ""),
    range: (lo, hi) => lo && hi ? lo + "~" + hi : (hi ? hi + " 이내" : lo + " 이상"),
    tokens: (t, chars, cpt, u) => "약 " + t + "토큰: " + chars + u + ", 토큰당 약 " + cpt + u + "로 추정, 여유 30% 포함",
    noLimit: (t) => "이 작업에는 글자 수 상한이 없어요: " + t + "토큰",
    general: "지정 안 함 (일반 질문)",
    ask: "질문을 입력하세요 (Enter 보내기, Shift+Enter 줄바꿈)",
    valuePlaceholder: "선택: 담을 가치 하나",
  },
};

function lang(kit) {
  return ((kit && kit.language) || "en").split("-")[0].toLowerCase();
}

function hints(kit) {
  return HINTS[lang(kit)] || HINTS.en;
}

function unit(kit) {
  return (kit && kit.length_unit) || "characters";
}

// Length as the constraints check counts it: grapheme clusters of the trimmed text, line breaks not counted.
const SEGMENTER = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
function graphemes(text) {
  const body = (text || "").trim().replace(/[\r\n]/g, "");
  if (!SEGMENTER) return Array.from(body).length;
  let n = 0;
  for (const _ of SEGMENTER.segment(body)) n++;  // eslint-disable-line no-unused-vars
  return n;
}

// "Constraints: at most 40 자; a call to action (e.g. …)" for a task, in the kit's language; a chat task of a kit
// with a disclaimer also names the disclaimer line its answers must end with.
function constraintText(kit, task) {
  const h = hints(kit);
  const cues = kit.cta_cues || [];
  const parts = Object.entries(task.constraints)
    .map(([k, v]) => (h.c[k] ? h.c[k](v, k.endsWith("_chars") ? unit(kit) : cues) : k + "=" + v)).filter(Boolean);
  if (kit.disclaimer && task.mode === "chat") parts.push(h.disclaimer(kit.disclaimer));
  return parts.length ? h.constraints + parts.join(h.join) : "";
}

// The style check's punctuation limits for a task, with the language's punctuation convention: exclamation
// marks allowed at the task's max_chars (one always), runs of ! and ?, full- or half-width marks.
function punctuationText(kit, task) {
  const h = hints(kit);
  const s = kit.style || {};
  const parts = [];
  if (h.marks) parts.push(h.marks);
  if (s.max_exclamation_density !== undefined && task.constraints.max_chars) {
    parts.push(h.exclamations(Math.max(1, Math.floor(task.constraints.max_chars * s.max_exclamation_density))));
  }
  if (s.max_punct_run) parts.push(h.run(s.max_punct_run));
  return parts.length ? h.punctuation + parts.join(h.join) : "";
}

// "38 자 (8~40)" — a text's length against the task's range; state: over, under or ok.
function lengthInfo(kit, task, chars) {
  const h = hints(kit);
  const c = (task && task.constraints) || {};
  const range = c.min_chars || c.max_chars ? h.range(c.min_chars, c.max_chars) : "";
  const state = c.max_chars && chars > c.max_chars ? "over" : (c.min_chars && chars < c.min_chars ? "under" : "ok");
  return { text: h.length(chars, unit(kit), range), state };
}

// Default max tokens of a task: its max_chars at the language's characters per token, with headroom.
function defaultMaxTokens(kit, task) {
  const cpt = CHARS_PER_TOKEN[lang(kit)] || 3;
  const chars = task.constraints.max_chars;
  if (!chars) return { tokens: NO_LIMIT_TOKENS, hint: hints(kit).noLimit(NO_LIMIT_TOKENS) };
  const tokens = Math.min(2048, Math.max(16, Math.ceil((chars / cpt) * TOKEN_HEADROOM)));
  return { tokens, hint: hints(kit).tokens(tokens, chars, cpt, unit(kit)) };
}
