"""What price-opt says, in Chinese or English: the message catalogue and the number formats.

Messages are written in English in the code (gettext style: the English text is the key) and
looked up in :data:`ZH` for Chinese; a text missing from the catalogue falls back to English, and
a test walks every command's help to make sure none is missing. Placeholders use
:meth:`str.format` names, the same in both languages.

The language is ``--lang`` when given, else ``PRICE_OPT_LANG``, else the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``: ``zh_*`` → zh, ``en_*`` → en), and Chinese when unsure (``C``,
``POSIX`` or nothing set): the users are Chinese merchandisers.

Numbers: money in yuan with thousands separators and two decimals (``¥1,299.00``); in Chinese
summaries large amounts in 万 or 亿 (``¥1,057.95万``); forecasts (units) as whole numbers,
never to the fen; discounts in both forms (``5折 / 50% off``).
"""

from __future__ import annotations

import functools
import math
import os
import re
import string
from collections.abc import Mapping
from decimal import Decimal

from models.money import discount_label, fen_to_decimal

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_ENV = "PRICE_OPT_LANG"
_LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """The language when ``--lang`` is not given: ``PRICE_OPT_LANG``, the locale, else zh."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(LANG_ENV, "").strip().lower()
    if chosen in LANGS:
        return chosen
    for name in _LOCALE_ENV:
        value = environ.get(name, "").strip().lower()
        if not value:
            continue
        if value.startswith("zh"):
            return "zh"
        if value.startswith("en"):
            return "en"
        break  # the first locale variable set decides, as in POSIX; C/POSIX/other: unsure
    return DEFAULT_LANG


def is_lang(value: str) -> bool:
    """Whether ``value`` names a language price-opt speaks."""
    return value.strip().lower() in LANGS


def tr(text: str, lang: str, /, **fields: object) -> str:
    """``text`` in ``lang`` (English is the key), with ``fields`` filled in."""
    chosen = ZH.get(text, text) if lang == "zh" else text
    return chosen.format(**fields) if fields else chosen


# The steps the library reports to a progress bar; those with a number in them are matched by
# their English pattern and the number carried over.
_STEP_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Building the candidate table \((?P<count>\d+) products\)"),
     "正在建立候选表（{count} 个商品）"),
    (re.compile(r"Building the MILP \((?P<count>\d+) products with a choice\)"),
     "正在建立 MILP 模型（{count} 个商品有选择）"),
    (re.compile(r"Solving with (?P<solver>\w+)"), "正在用 {solver} 求解"),
    (re.compile(r"Cannibalization round (?P<round>\d+)"), "互相分流修正第 {round} 轮"),
)


def step_text(description: str, lang: str) -> str:
    """A progress step's description in ``lang`` (the library says it in English)."""
    if lang != "zh" or description in ZH:
        return tr(description, lang)
    for pattern, chinese in _STEP_PATTERNS:
        match = pattern.fullmatch(description)
        if match:
            return chinese.format(**match.groupdict())
    return description


# --- numbers ----------------------------------------------------------------------------------


def yuan(fen: int) -> str:
    """Money with thousands separators and two decimals: ``75147348160 -> "751,473,481.60"``."""
    return f"{fen_to_decimal(fen):,.2f}"


def money(fen: int) -> str:
    """:func:`yuan` with the currency sign, the minus before it: ``-1250 -> "-¥12.50"``."""
    return f"-¥{yuan(-fen)}" if fen < 0 else f"¥{yuan(fen)}"


def money_summary(fen: int, lang: str) -> str:
    """Money for a summary line: in Chinese, 万 from ¥10,000 and 亿 from ¥100,000,000.

    ``(105795166, "zh") -> "¥105.80万"``; English keeps the exact amount with separators.
    """
    if lang != "zh" or abs(fen) < 1_000_000:
        return money(fen)
    amount = fen_to_decimal(abs(fen))
    yi = amount >= 100_000_000
    shown = f"{amount / 100_000_000:,.2f}亿" if yi else f"{amount / 10_000:,.2f}万"
    return f"-¥{shown}" if fen < 0 else f"¥{shown}"


def units(forecast: float) -> str:
    """A forecast number of units, as a forecast: whole units with separators (``1,234``)."""
    if not math.isfinite(forecast):
        return "—"
    return f"{round(forecast):,}"


def share_text(share: Decimal) -> str:
    """A share as a percentage without needless zeros: ``0.125 -> "12.5%"``."""
    return f"{(share * 100).normalize():f}%"


def discount_forms(off: Decimal, lang: str) -> str:
    """A discount in both of the merchandiser's forms: share off 0.5 → ``5折 / 50% off``.

    ``off`` is the share taken off the everyday price (0 = none). Chinese says ``5折 / 减50%``.
    """
    if off <= 0:
        return tr("no discount", lang)
    zhe = discount_label(1 - off)
    percent = share_text(off)
    return f"{zhe} / 减{percent}" if lang == "zh" else f"{zhe} / {percent} off"


def level_forms(level: Decimal, lang: str) -> str:
    """A ladder level (the share of the everyday price kept) in both forms: 0.75 → ``7.5折 /
    25% off``."""
    return discount_forms(Decimal(1) - level, lang)


# --- the Chinese catalogue --------------------------------------------------------------------

ZH: dict[str, str] = {
    # the app and its options
    "Promotion pricing and coupon-stacking optimizer for Taobao/Tmall stores, with a no-loss "
    "proof for every plan.": "淘宝/天猫店铺大促定价与优惠叠加优化工具：每个方案都经过“不亏本”验证。",
    "Show the version and exit.": "显示版本号并退出。",
    "Language of the output: zh or en (default: PRICE_OPT_LANG, else the locale, else zh).":
        "输出语言：zh 或 en（默认取 PRICE_OPT_LANG，其次系统语言，否则中文）。",
    "Products file (.csv or .xlsx). Default: the bundled sample catalogue.":
        "商品文件（.csv 或 .xlsx）。默认：自带的示例商品表。",
    "Rules file (.toml). Default: the bundled sample rules.":
        "规则文件（.toml）。默认：自带的示例规则。",
    "MILP solver: cbc (bundled with PuLP) or highs.": "求解器：cbc（PuLP 自带）或 highs。",
    "auto (the MILP where it is fast, else the ladder decomposition), milp or decompose.":
        "auto（规模适中时用整数规划，否则用阶梯分解）、milp 或 decompose。",
    "Where to write the plan (.json or .xlsx).": "方案写入的文件（.json 或 .xlsx）。",
    "Stop the solver after this many seconds.": "求解器最多运行的秒数。",
    "Relative optimality gap at which to stop.": "求解器停止时允许的相对最优间隙。",
    "How many products the table lists (0: none; the summary always shows the totals).":
        "表格列出的商品数（0：不列表格；汇总总是显示）。",
    "Plan the event: discount levels, coupon tiers and buy-two-get-one, proved loss-free.":
        "制定活动方案：折扣档位、店铺优惠券和买二送一，并证明不亏本。",
    "Picks each product's activity price, the store's coupon tiers and the buy-two-get-one "
    "members for the most expected profit that no cart can turn into a loss, verifies the plan "
    "with the exact checker and writes it.":
        "为每个商品选择活动价，为店铺选择优惠券档位和买二送一商品，使预期利润最高且任何购物车"
        "都不亏本；方案经精确校验后写入文件。",
    "Cart file (.json, the public cart format).": "购物车文件（.json，公开的购物车格式）。",
    "Print the quote as JSON (money as strings).": "以 JSON 输出报价（金额为字符串）。",
    "Products file: adds commission, cost, handling, shipping share and margin per line.":
        "商品文件：给出每行的佣金、成本、操作费、运费分摊和毛利。",
    "Rules file (.toml) for commission, handling and shipping. Default: the sample rules "
    "(with --products).": "规则文件（.toml），用于佣金、操作费和运费。默认：示例规则（配合 --products）。",
    "Quote a cart to the fen: every discount a buyer stacks, what is paid and received.":
        "按分精确计算购物车：买家叠加的每项优惠、实付和商家实收。",
    "With --products, each line also shows commission, cost, shipping share and margin.":
        "加 --products 时，每行还显示佣金、成本、运费分摊和毛利。",
    "Price every product at this discount: 5折, 50% or 0.5 (the share off). "
    "Default: 5折 unless --plan is given.":
        "所有商品按此折扣定价：5折、50% 或 0.5（减掉的比例）。默认：5折（给出 --plan 时除外）。",
    "Check a plan's prices, coupon tiers and buy-two-get-one instead (a plan .json/.xlsx or a "
    "submission sheet).": "改为校验方案的价格、优惠券和买二送一（方案 .json/.xlsx 或报名表）。",
    "With --discount: the coupon tiers the store offers, e.g. 0-5,299-20,599-50 "
    "(default: every candidate of the rules).":
        "配合 --discount：店铺提供的优惠券档位，如 0-5,299-20,599-50（默认：规则中的全部候选券）。",
    "With --discount: the store offers no coupon.": "配合 --discount：店铺不发优惠券。",
    "With --discount: every eligible product runs buy-two-get-one (default: off).":
        "配合 --discount：所有可参加的商品都参加买二送一（默认：不参加）。",
    "Print the result as JSON (money as strings).": "以 JSON 输出结果（金额为字符串）。",
    "Write each losing product's worst cart here, as a cart file for `price-opt quote`.":
        "把每个亏本商品的最差购物车写到此目录（price-opt quote 可读取）。",
    "How many products the table lists, losers first (0: none; the summary always shows the "
    "totals).": "表格列出的商品数，亏本的在前（0：不列表格；汇总总是显示）。",
    "Find every product's worst cart at a discount or under a plan: can any unit lose money?":
        "在某个折扣或某个方案下，找出每个商品的最差购物车：会不会有商品亏本？",
    "Exits 1 when a cart sells a unit below cost, or when no proof shows every unit keeps its "
    "margin floor.": "有购物车让商品低于成本，或无法证明每件都保住毛利底线时，退出码为 1。",
    "Check a products file and a rules file, reporting every problem in both at once.":
        "检查商品文件和规则文件，一次列出两者的全部问题。",
    "Exit 1 with every problem listed, or 0 with a short summary of what the files hold.":
        "有问题时列出全部并退出码 1；否则给出简短汇总，退出码 0。",
    "The plan written by `price-opt plan` (.json or plan .xlsx).":
        "price-opt plan 写出的方案（.json 或方案 .xlsx）。",
    "Products file. Default: the one the plan records.": "商品文件。默认：方案记录的商品文件。",
    "Rules file (.toml). Default: the rules the plan records.": "规则文件（.toml）。默认：方案记录的规则。",
    "The sheet: .xlsx, or .csv (plus a NAME.settings.csv beside it). Default: 报名表.xlsx "
    "(submission.xlsx with --lang en).":
        "报名表：.xlsx 或 .csv（旁边另写 NAME.settings.csv）。默认：报名表.xlsx（英文为 submission.xlsx）。",
    "Activity stock = expected units × this, rounded up, never above the stock, never below "
    "the forecast (at least 1).":
        "活动库存 = 预计销量 × 此系数，向上取整，不超过库存，不低于预计销量（系数至少为 1）。",
    "Leave products that would lose money or break the sign-up rules out of the event instead "
    "of refusing.": "把会亏本或不满足报名规则的商品移出活动，而不是拒绝导出。",
    "Write the product submission sheet (商品报名表) of a plan, after checking it again.":
        "再次校验方案后，写出商品报名表。",
    "Refuses (exit 6), naming the products, a plan in which a cart can sell a unit below its "
    "margin floor or a joining product breaks the sign-up rules, unless --drop-failing.":
        "若有购物车让商品低于毛利底线，或报名商品不满足报名规则，则拒绝导出（退出码 6）并列出商品，"
        "除非使用 --drop-failing。",
    "The report, one self-contained .html file.": "报告：一个独立的 .html 文件。",
    "Write the plan's report: headline, price waterfalls, products, 50%-off test, worst carts.":
        "写出方案报告：概览、价格瀑布、商品表、五折压力测试、最差购物车。",
    "One HTML file with everything inlined: it opens in any browser without a network.":
        "一个内嵌全部内容的 HTML 文件，无需联网即可在浏览器中打开。",
    # framing
    "error:": "错误：",
    "warning:": "警告：",
    "removed:": "已移除：",
    "1 problem in the input:": "输入中有 1 处问题：",
    "{count} problems in the input:": "输入中有 {count} 处问题：",
    "row {row}": "第 {row} 行",
    "rows are numbered as in a spreadsheet: the header is row 1, the first product row 2":
        "行号与表格软件一致：表头是第 1 行，第一个商品是第 2 行",
    "column {column}": "列 {column}",
    "(got {value})": "（值为 {value}）",
    "expected zh or en": "应为 zh 或 en",
    "expected cbc or highs": "应为 cbc 或 highs",
    "expected auto, milp or decompose": "应为 auto、milp 或 decompose",
    "expected a share in [0, 1)": "应为 [0, 1) 之间的比例",
    "expected seconds > 0": "应为大于 0 的秒数",
    "expected a whole number ≥ 0 (0: none)": "应为不小于 0 的整数（0：不列）",
    # plan
    "Planning…": "正在制定方案…",
    "Solving by coupon ladders": "正在按优惠券组合求解",
    "Verifying the plan against every basket": "正在用每个购物车校验方案",
    "Reading the plan and the products": "正在读取方案和商品",
    "Checking every cart": "正在校验每个购物车",
    "Writing the review sheet": "正在写出核对表",
    "Writing the upload sheet": "正在写出上传表",
    "The 50%-off stress test": "五折压力测试",
    "Drawing the report": "正在生成报告",
    "Status": "状态",
    "{status} ({method}, {solver}, gap {gap}, {solve:.2f} s to solve, {total:.2f} s in all)":
        "{status}（{method}，{solver}，间隙 {gap}，求解 {solve:.2f} 秒，共 {total:.2f} 秒）",
    "Model": "模型",
    "{variables} variables, {constraints} constraints; {pruned} of {total} candidates pruned":
        "{variables} 个变量，{constraints} 个约束；{total} 个候选中剪除 {pruned} 个",
    "Coupon tiers": "店铺优惠券",
    "none": "无",
    "Buy two get one": "买二送一",
    "{count} products": "{count} 个商品",
    "not run": "不开展",
    "Products": "商品",
    "{joining} join the event, {out} stay out": "{joining} 个参加活动，{out} 个不参加",
    "Expected revenue": "预计销售额",
    "Expected profit": "预计利润",
    "{amount} (everyday baseline {baseline})": "{amount}（日常价基线 {baseline}）",
    "Discount spend": "优惠投入",
    "Worst unit margin": "单件最低毛利",
    "{amount} (proven: no cart leaves a unit less)": "{amount}（已证明：任何购物车都不会更低）",
    "Products (top {shown} of {total} by profit)": "商品（按利润前 {shown} 个，共 {total} 个）",
    "Price: activity price; Units: forecast; Worst: the least margin a unit keeps in any cart":
        "活动价：单品优惠价；销量：预测值；最低毛利：任何购物车中一件商品至少保留的毛利",
    "SKU": "SKU",
    "Title": "商品标题",
    "List": "日常价",
    "Price": "活动价",
    "Discount": "折扣",
    "B2G1": "买二送一",
    "Units": "预计销量",
    "Profit": "预计利润",
    "Worst": "最低毛利",
    "out": "不参加",
    "yes": "是",
    "no": "否",
    "Plan written to {path} (verified: no cart loses money).":
        "方案已写入 {path}（已验证：没有购物车亏本）。",
    "no discount": "原价",
    "Exit 3 (and write nothing) when a hero is excluded or a soft rule is violated.":
        "有主推商品被排除或违反软规则时退出码 3（不写入任何文件）。",
    "{count} excluded product(s) lose money at their everyday price whatever the plan.":
        "{count} 个被排除的商品按日常价单件下单即亏本，与方案无关。",
    "Excluded: {count} product(s) cannot join safely ({losers} lose money on a one-unit order "
    "even at their everyday price)":
        "排除：{count} 个商品无法安全参加活动（其中 {losers} 个按日常价单件下单即亏本）",
    "  … and {count} more (see the plan's `excluded`)": "  …… 另有 {count} 个（见方案的 `excluded`）",
    "Coupons limited: the store coupons must not cover {count} product(s): {names}":
        "店铺券限定：店铺券不得覆盖 {count} 个商品：{names}",
    "Official discount: put {count} product(s) outside the event on the opt-out list "
    "(不生效官方立减); see `official_opt_out`":
        "官方立减：把 {count} 个未参加活动的商品加入不生效官方立减名单（见 `official_opt_out`）",
    "Violated: {rule} by {by} (penalty {penalty})": "违反：{rule}，差 {by}（罚金 {penalty}）",
    "Binding rules: {rules}": "起约束作用的规则：{rules}",
    # quote
    "Subtotal": "商品金额",
    "Official discount": "官方立减",
    "Instant discount": "单品立减",
    "Store activity": "店铺活动",
    "Coupon": "优惠券",
    "Cross-store": "跨店满减",
    "Red packet": "红包",
    "Paid": "实付",
    "Merchant receives": "商家实收",
    "Commission": "佣金",
    "Cost": "成本",
    "Handling": "操作费",
    "Shipping share": "运费分摊",
    "Margin": "毛利",
    "Margin per unit": "单件毛利",
    "Store {store}": "店铺 {store}",
    "Store total": "店铺合计",
    "coupon used: {coupon}": "使用的优惠券：{coupon}",
    "Buyer pays {paid}; merchants receive {received} (red packets are platform-funded).":
        "买家实付 {paid}；商家实收 {received}（红包由平台出资）。",
    "Store {store} keeps a margin of {margin} on this cart (after commission {commission}, "
    "cost, handling and shipping {shipping}).":
        "店铺 {store} 在此购物车上的毛利为 {margin}（已扣佣金 {commission}、成本、操作费和运费 {shipping}）。",
    "{sku}: not in the products file; its cost is unknown, so no margin is shown.":
        "{sku}：不在商品文件中，成本未知，不显示毛利。",
    # check
    "every product at {discount}": "所有商品 {discount}",
    "the prices of the plan {plan}": "方案 {plan} 的价格",
    "Checking {basis}, assuming:": "校验 {basis}，假设：",
    "store tools: exclusive (since 2026-03-10: a line takes the coupon or the multi-piece "
    "offer, whichever saves the buyer more)":
        "店铺优惠：互斥择优（2026-03-10 起，每个子订单只用优惠券或多件优惠中优惠更大的一个）",
    "store tools: stacked (before 2026-03-10: the coupon stacks with the multi-piece offer)":
        "店铺优惠：叠加（2026-03-10 以前，优惠券与多件优惠叠加）",
    "{count} product(s) fail the sign-up check only because the coupons are not counted; they "
    "would pass with coupons covering the cycle":
        "{count} 个商品仅因店铺券不计入而未通过报名校验；若店铺券覆盖整个活动周期即可通过",
    "multi-piece offer: {offer}": "多件优惠：{offer}",
    "Multi-piece offer": "多件优惠",
    "Super instant": "超级立减",
    "offer candidates: {offers}": "多件优惠候选：{offers}",
    "sign-up (2026): the store coupon one unit reaches counts in the price after universal "
    "offers, as the coupons cover the whole activity cycle":
        "报名校验（2026）：店铺券覆盖整个活动周期，单件可用的店铺券计入活动普惠券后价",
    "sign-up (2026): the store coupons do not cover the whole activity cycle "
    "(coupons_cover_cycle = false), so the sign-up check does not count them; buyers still "
    "stack them, and the no-loss proof above counts them":
        "报名校验（2026）：店铺券未覆盖整个活动周期（coupons_cover_cycle = false），不计入报名"
        "价格校验；但买家仍可叠加使用，上面的不亏损证明已计入",
    "Worst cart per product": "每个商品的最差购物车",
    "Worst cart per product ({shown} of {total}, losers first)":
        "每个商品的最差购物车（共 {total} 个，列出 {shown} 个，亏本的在前）",
    "Activity": "活动价",
    "Worst margin": "最差毛利",
    "Bound": "证明下限",
    "Verdict": "结论",
    "Sign-up": "报名",
    "LOSES": "亏本",
    "safe": "安全",
    "unproven": "未证明",
    "{losers} of {total} products lose money: {named}{more}.":
        "{total} 个商品中有 {losers} 个亏本：{named}{more}。",
    "{sku} ({margin} a unit)": "{sku}（每件 {margin}）",
    " and {count} more": " 等另外 {count} 个",
    "{count} not proven safe (no losing cart found, but the proven bound is below the margin "
    "floor): {skus}.": "{count} 个未证明安全（没找到亏本购物车，但证明下限低于毛利底线）：{skus}。",
    "Worst order among the witness carts: margin {margin}.": "见证购物车中最差订单的毛利：{margin}。",
    "{count} witness cart(s) written to {path}; `price-opt quote <file>` shows each loss to the "
    "fen.": "已把 {count} 个见证购物车写入 {path}；用 price-opt quote <文件> 可按分查看每笔亏损。",
    "All {total} products are proven safe: no cart sells a unit below its margin floor.":
        "全部 {total} 个商品已证明安全：没有购物车让任何一件低于毛利底线。",
    "Verdict: LOSES, a cart sells a unit below cost; safe, proven to keep the margin floor in "
    "every cart; unproven, neither.":
        "结论：亏本＝有购物车让一件低于成本；安全＝已证明每个购物车都保住毛利底线；未证明＝两者都不是。",
    # validate
    "products": "商品",
    "rules": "规则",
    "{count} products ({roles}); {no_b2g1} kept out of buy-two-get-one, {limited} with a "
    "purchase limit": "{count} 个商品（{roles}）；{no_b2g1} 个不参加买二送一，{limited} 个设了限购",
    "mechanism: {mechanism}; commission {commission}; sign-up at least {min_discount} off":
        "平台机制：{mechanism}；佣金 {commission}；报名至少降价 {min_discount}",
    "store: shipping {shipping} per order, handling {handling} per unit, budget {budget}":
        "店铺：每单运费 {shipping}，每件操作费 {handling}，预算 {budget}",
    "coupon candidates: {coupons} (at most {max_tiers} tiers)":
        "候选优惠券：{coupons}（最多 {max_tiers} 档）",
    "ladder: {count} levels, {first} to {last}; buy-two-get-one {b2g1}":
        "折扣阶梯：{count} 档，{first} 到 {last}；买二送一 {b2g1}",
    "allowed": "允许",
    "off": "关闭",
    "ok: both files are valid.": "通过：两个文件都有效。",
    # export
    "Checking every cart and writing the sheet…": "正在校验每个购物车并写出报名表…",
    "Submission sheet ({count} products)": "报名表（{count} 个商品）",
    "Stock": "活动库存",
    "Lowest": "最低到手价",
    "first {shown} of {total}; ": "前 {shown} 个，共 {total} 个；",
    "Price: activity price; Lowest: least paid per unit; Worst: least unit margin":
        "活动价：单品优惠价；最低到手价：每件最少实付；最低毛利：单件最低毛利",
    "Wrote {paths}: {count} products{removed}; coupon tiers {tiers}; buy-two-get-one {b2g1}. "
    "Every cart checked: no unit sells below its margin floor.":
        "已写出 {paths}：{count} 个商品{removed}；店铺优惠券 {tiers}；买二送一 {b2g1}。"
        "已校验每个购物车：没有一件低于毛利底线。",
    "; {count} removed": "；移除 {count} 个",
    # report
    "Checking every cart and drawing the report…": "正在校验每个购物车并生成报告…",
    "Wrote {path}: {count} products, {waterfalls} price waterfalls; {losers} not proven safe at {discount} (as `price-opt check --discount 5折` counts them: LOSES plus unproven).":
        "已写出 {path}：{count} 个商品，{waterfalls} 个价格瀑布；{discount} 时有 {losers} 个不能证明不亏本（与 price-opt check --discount 5折 的“亏本”加“未证明”一致）。",
    "the plan fails the exact checker for {count} product(s): {skus} (the report shows why; "
    "export refuses it)": "方案有 {count} 个商品未通过精确校验：{skus}（报告中有原因；导出会拒绝）",
    "coupons: {tiers} ({source}; the buyer uses the best one the cart reaches)":
        "优惠券：{tiers}（{source}；买家使用购物车能用的最优一张）",
    "the plan's tiers": "方案选定的档位",
    "as given by --coupons": "按 --coupons 指定",
    "every candidate of the rules, the worst case": "规则中的全部候选券，最坏情况",
    "--no-coupons": "--no-coupons：不发券",
    "buy two get one: {b2g1}": "买二送一：{b2g1}",
    "platform: {mechanism}; commission {commission}": "平台：{mechanism}；佣金 {commission}",
    "costs: shipping {shipping} per order (free shipping), handling {handling} per unit":
        "成本：每单运费 {shipping}（包邮），每件操作费 {handling}",
    "{count} product(s) far from their floor got no witness cart":
        "{count} 个离毛利底线较远的商品未生成见证购物车",
    "a line can be discounted to zero, so every bound assumes only receives ≥ 0":
        "有商品行可能被优惠到 0，因此所有下限只假设实收 ≥ 0",
    "every subtotal is assumed reachable (catalogue too large to enumerate baskets); the bounds "
    "are sound and slightly more cautious":
        "假设任何金额都能凑出（商品太多无法枚举组合）；下限仍然成立，只是略保守",
    "mutually exclusive: check one or the other": "互斥：只能选其一",
    "a plan sets its own coupon tiers and buy-two-get-one; --coupons, --no-coupons and --b2g1 "
    "go with --discount": "方案自带优惠券和买二送一；--coupons、--no-coupons 和 --b2g1 只能配合 --discount",
    "--coupons and --no-coupons are mutually exclusive": "--coupons 与 --no-coupons 互斥",
    "expected a discount such as 5折, 8.5折, 50% or 0.5 (the share off)":
        "应为 5折、8.5折、50% 或 0.5（减掉的比例）这样的折扣",
    "expected a number of at least 1, e.g. 1.2": "应为不小于 1 的数，如 1.2",
    "goes with --products (the costs come from there)": "需配合 --products（成本来自商品文件）",
    # fit and forecast
    "Sales history (.csv or .xlsx): date, sku, units, price, optional promo, feature, category, visitors.":
        "销售历史（.csv 或 .xlsx）：日期、SKU、销量、价格，可选促销、资源位、类目、访客数。",
    "Products file: categories for a history without them, and the products that have no history.":
        "商品文件：为没有类目的历史补类目，并列出没有历史的商品。",
    "Where to write the demand file (.csv).": "需求文件写入位置（.csv）。",
    "Backtest: fit without the last N periods and score the forecast of them against naive and log-log baselines.":
        "回测：不用最后 N 期拟合，再用朴素和双对数基线评估对这 N 期的预测。",
    "How many flagged SKUs to list (0: none; the summary always shows the totals).":
        "列出多少个被标记的 SKU（0：不列；汇总总是显示）。",
    "Fit each SKU's demand (elasticity, promotion and feature lifts, cannibalization within its category, day of week) from the store's sales history, pooled toward its category.":
        "从店铺销售历史拟合每个 SKU 的需求（价格弹性、促销和资源位提升、类目内替代、星期效应），向所属类目收缩。",
    "Demand file written by `price-opt fit`.": "price-opt fit 写出的需求文件。",
    "Scenario (.csv or .xlsx): date, sku, price, optional promo, feature.":
        "情景（.csv 或 .xlsx）：日期、SKU、价格，可选促销、资源位。",
    'Print {"rows": [{"date", "sku", "units"}]}.': '输出 {"rows": [{"date", "sku", "units"}]}。',
    "Also write the forecast: .json as with --json, else CSV (date, sku, units).":
        "同时写出预测：.json 同 --json，否则为 CSV（date, sku, units）。",
    "Expected units for each row of a scenario (prices, promotions, features by date).":
        "按情景（每日价格、促销、资源位）逐行预测销量。",
    "Demand file from `price-opt fit`: event units from the fitted model (over [demand] event_days), cannibalization within a category in the objective; products without a row use their columns.":
        "price-opt fit 写出的需求文件：活动销量按拟合模型计算（共 [demand] event_days 天），目标中计入类目内替代；文件中没有的商品沿用其列。",
    "history {path}: {summary}": "销售历史 {path}：{summary}",
    "{count} zero-unit rows without a price: the SKU's nearest price carried":
        "{count} 行销量为 0 且无价格：沿用该 SKU 最近的价格",
    "{count} products have no history ({skus}): a plan uses their base_units and elasticity columns":
        "{count} 个商品没有历史（{skus}）：方案使用其 base_units 和 elasticity 列",
    "days": "天", "weeks": "周",
    "backtest: last {periods} {unit} held out ({first} to {last}, {rows} rows, {units} units):":
        "回测：留出最后 {periods} {unit}（{first} 至 {last}，{rows} 行，{units} 件）：",
    "forecast": "预测", "bias": "偏差", "vs naive WAPE": "相对朴素 WAPE",
    "{count} held-out rows of SKUs with no earlier history are not scored":
        "{count} 行留出数据的 SKU 之前没有历史，不计分",
    "fitted {count} SKUs ({period}: one row per {period}): elasticity median {median}, negative for {negative} of {count}; elasticity from {sources}":
        "已拟合 {count} 个 SKU（{period}：每 {period} 一行）：弹性中位数 {median}，{count} 个中 {negative} 个为负；弹性来源 {sources}",
    "{count} SKUs flagged (fallbacks in the demand file's source and flags columns):":
        "{count} 个 SKU 被标记（见需求文件的 source 和 flags 列）：",
    "… and {count} more": "… 另有 {count} 个",
    "wrote {path} ({count} SKUs{refit})": "已写出 {path}（{count} 个 SKU{refit}）",
    ", refitted on the whole history": "，已用全部历史重新拟合",
    "date": "日期", "sku": "SKU", "units": "预计销量",
    " (first {shown} shown{where})": "（显示前 {shown} 行{where}）",
    "; all in {path}": "；全部见 {path}",
    "{rows} rows, {units} units in all{more}": "共 {rows} 行，合计 {units} 件{more}",
    "--out names an input file; it is never overwritten": "--out 指向输入文件；输入文件永远不会被覆盖",
    "expected a folder, not a file": "应为文件夹，而不是文件",
    "Replace an output file price-opt did not write (or that was edited since); the current file is kept as NAME.bak.":
        "替换不是 price-opt 写出（或之后被编辑过）的输出文件；当前文件另存为 NAME.bak。",
    "kept the previous {path} as {backup}": "原有的 {path} 已另存为 {backup}",
    "The sheet of an .xlsx products file to read (default: the first; the output says which "
    "was read).": "要读取的 .xlsx 商品文件工作表（默认第一个；输出会说明读取了哪一个）。",
    "interrupted:": "已中断：",
    "tmall (the platform's 商品报名表 columns: 商品ID, SKU ID, 活动价, 活动库存, 每人限购), or your downloaded template .xlsx, filled by header name.":
        "tmall（平台商品报名表的列：商品ID、SKU ID、活动价、活动库存、每人限购），或你下载的报名模板 .xlsx（按表头名称填写）。",
    "Upload sheet {path} ({template}, sheet {sheet}): {filled} rows filled in the template, {appended} added; review (internal figures, never uploaded): {review}":
        "上传表 {path}（{template}，工作表 {sheet}）：填写模板中已有的 {filled} 行，新增 {appended} 行；核对表（内部数据，勿上传）：{review}",
    "{count} joining product(s) have no sku_id (SKU ID) in the products file, so their SKU ID cell in the upload sheet is empty: {skus}":
        "{count} 个报名商品在商品文件中没有 sku_id（SKU ID），上传表中它们的 SKU ID 为空：{skus}",
}


# --- the details of input problems and notes (the library says them in English) -------------
# Keys are the English text with {name} where a value goes; a message is matched whole, else
# piece by piece between "; " (see tr_message). Values that are themselves catalogue entries
# (a hint such as MONEY_HINT) are translated too.
MESSAGES_ZH: dict[str, str] = {
    # hints that appear inside other messages
    "an amount in yuan with at most two decimals, e.g. 199.00": "以元为单位、最多两位小数的金额，例如 199.00",
    "a whole number ≥ 0": "不小于 0 的整数",
    "the SKU code": "SKU 编码",
    "the expected units at the everyday price, ≥ 0": "日常价下的预计销量，不小于 0",
    "a price per unit in yuan > 0": "大于 0 的单价（元）",
    "0/1, 是/否, yes/no or true/false; empty = 0": "0/1、是/否、yes/no 或 true/false；空为 0",
    "leave empty for the rules' default": "留空则用规则中的默认值",
    "empty = yes": "空为“是”",
    ", e.g. 120": "，例如 120",
    # cells
    "empty": "为空",
    "expected {expected}": "应为{expected}",
    "not a number": "不是数字",
    "not a number ({reason})": "不是数字（{reason}）",
    "write the amount out in full, without an exponent": "请写出完整金额，不要用科学计数法",
    "a thousands separator must come every three digits (1,299.00)": "千位分隔符必须每三位一个（1,299.00）",
    "more than two decimals: money is counted to the fen (0.01 yuan)": "超过两位小数：金额精确到分（0.01 元）",
    "too large: at most {limit} yuan": "太大：最多 {limit} 元",
    "too large: at most {limit} units": "太大：最多 {limit} 件",
    "too large: at most {limit}": "太大：最多 {limit}",
    "too long: at most {limit} characters": "太长：最多 {limit} 个字符",
    "too steep: at least {limit}": "太陡：至少为 {limit}",
    "must be above zero": "必须大于 0",
    "must be above 0": "必须大于 0",
    "must be below 0": "必须小于 0",
    "must be positive": "必须为正数",
    "must not be negative": "不能为负数",
    "must not be empty": "不能为空",
    "must be at least {minimum}": "至少为 {minimum}",
    "expected a whole number ≥ {minimum}{example}": "应为不小于 {minimum} 的整数{example}",
    "must be below zero (units fall as the price rises), e.g. -1.8": "必须小于 0（价格上升销量下降），例如 -1.8",
    "holds a control character {characters}": "含有控制字符 {characters}",
    "holds a control character": "含有控制字符",
    "expected plain text": "应为普通文字",
    "duplicate SKU: already on row {row}": "SKU 重复：第 {row} 行已有",
    "duplicate SKU: one row per SKU": "SKU 重复：每个 SKU 只能一行",
    "unknown role": "未知角色",
    "expected 主推/引流/利润/常规 or hero/traffic/profit/regular": "应为 主推/引流/利润/常规 或 hero/traffic/profit/regular",
    "expected yes/no (是/否, Y/N, true/false, 1/0)": "应为 是/否（yes/no、Y/N、true/false、1/0）",
    "expected 是/否 (yes/no)": "应为 是/否",
    "expected the platform's numeric SKU ID (digits only), or an empty cell": "应为平台的数字 SKU ID（只含数字），或留空",
    "cost above the everyday price: this product loses money at any activity price": "成本高于日常价：此商品以任何活动价出售都会亏本",
    "a number cell with more than 15 digits: Excel keeps only 15, so this ID may not be the one typed": "数字单元格超过 15 位：Excel 只保留 15 位，此 ID 可能不是输入的那个",
    "format the column as text (文本) and enter the IDs again": "请把该列设为文本格式并重新输入 ID",
    "…and {count} more rows with the same problem (rows {first} to {last})": "……另有 {count} 行有同样的问题（第 {first} 至 {last} 行）",
    "not a date": "不是日期",
    "expected an ISO date such as 2025-11-11 or an Excel date": "应为 ISO 日期（如 2025-11-11）或 Excel 日期",
    "expected a date such as 2025-11-11": "应为日期，例如 2025-11-11",
    "expected units sold, a number ≥ 0 (0 is data)": "应为销量，不小于 0 的数（0 也是数据）",
    "expected the average price paid per unit (empty only where units is 0)": "应为每件平均成交价（只有销量为 0 时可空）",
    "expected day or week": "应为 day 或 week",
    # columns and files
    "missing required column: {names}": "缺少必需的列：{names}",
    "missing required columns: {names}": "缺少必需的列：{names}",
    "ignored unknown column {names}": "已忽略未知列 {names}",
    "ignored unknown columns {names}": "已忽略未知列 {names}",
    "unknown column {names}": "未知列 {names}",
    "unknown columns {names}": "未知列 {names}",
    "accepted columns: {names}": "可用的列：{names}",
    "accepted columns of {what}: {names}": "{what}可用的列：{names}",
    "columns {written} all mean {name}": "列 {written} 都表示 {name}",
    "keep one": "只保留一列",
    "file not found": "文件不存在",
    "not a file": "不是文件",
    "is a folder; expected a file name": "是文件夹；应为文件名",
    "the file is empty; expected a header row and one row per product": "文件为空；应有表头行和每个商品一行",
    "the file is empty; expected a header row and one row per SKU and date": "文件为空；应有表头行和每个 SKU 每天一行",
    "no products: the file has a header but no product rows": "没有商品：文件只有表头，没有商品行",
    "no rows: the file has a header but no SKU": "没有数据：文件只有表头，没有 SKU",
    "unknown kind of file {suffix}": "未知的文件类型 {suffix}",
    "expected .csv or .xlsx": "应为 .csv 或 .xlsx",
    "not a readable CSV table: {detail}": "不是可读取的 CSV 表格：{detail}",
    "a stray separator, or a value with a comma that needs quotes?": "多了分隔符，或者含逗号的值需要加引号？",
    "line {line} has {seen} cells but the first row has {expected}": "第 {line} 行有 {seen} 个单元格，而第一行有 {expected} 个",
    "not an .xlsx workbook (not a zip archive)": "不是 .xlsx 工作簿（不是 zip 压缩包）",
    "an old .xls? Save as .xlsx": "是旧的 .xls 吗？请另存为 .xlsx",
    "not a readable .xlsx workbook: {error}": "不是可读取的 .xlsx 工作簿：{error}",
    "not UTF-8 text (byte {byte})": "不是 UTF-8 文本（第 {byte} 字节）",
    "cannot read the file: {error}": "无法读取文件：{error}",
    "the file is {size} MB": "文件大小为 {size} MB",
    "a {what} is at most {limit} MB": "{what}最大 {limit} MB",
    "not valid JSON: {detail}": "不是有效的 JSON：{detail}",
    "not a {what}: the JSON is nested too deeply": "不是{what}：JSON 嵌套太深",
    "the catalogue's stock is worth ¥{value} at everyday prices (Σ price × stock)": "按日常价，商品库存总值为 ¥{value}（Σ 价格 × 库存）",
    "at most ¥{limit} is supported": "最多支持 ¥{limit}",
    "read the sheet {sheet}, the first of the workbook's {count} sheets": "读取了工作表 {sheet}（工作簿 {count} 个工作表中的第一个）",
    # JSON files (carts, plans)
    "missing": "缺少",
    "missing; expected {hint}": "缺少；应为{hint}",
    "unknown field (known: {names})": "未知字段（可用：{names}）",
    "expected an object": "应为对象",
    "expected text": "应为文字",
    "expected true or false": "应为 true 或 false",
    "expected a number": "应为数字",
    "expected a whole number ≥ 0": "应为不小于 0 的整数",
    "expected a list": "应为列表",
    "expected a list of texts": "应为文字列表",
    "expected a list of products": "应为商品列表",
    "expected a list of {threshold, amount}": "应为 {threshold, amount} 的列表",
    "expected a decimal share, e.g. \"0.75\"": "应为小数比例，例如 \"0.75\"",
    "expected a share of the everyday price in (0, 1]": "应为日常价的比例，在 (0, 1] 之间",
    "must be 1 − level = {value}": "必须等于 1 − level = {value}",
    "the same SKU appears twice": "同一个 SKU 出现了两次",
    "this price-opt reads plan format {version}": "此版本的 price-opt 读取第 {version} 版方案格式",
    "expected one of {names}": "应为以下之一：{names}",
    "expected an object (the rules file's sections)": "应为对象（规则文件的各节）",
    "expected a non-empty list of lines": "应为非空的商品行列表",
    "expected a non-empty list of tiers": "应为非空的优惠券档位列表",
    "expected at least one store": "至少应有一个店铺",
    "expected a whole number of units, 1 to {limit}": "应为件数，1 到 {limit} 的整数",
    "expected a whole number, at least 1": "应为至少为 1 的整数",
    "missing; expected the SKU code": "缺少；应为 SKU 编码",
    "must be below the unit price": "必须低于单价",
    "unknown store (known: {names})": "未知店铺（可用：{names}）",
    "a store name holds a control character": "店铺名含有控制字符",
    "holds a control character; expected plain text": "含有控制字符；应为普通文字",
    "a store has either cross_store or official_rate, never both": "一个店铺只能有 cross_store 或 official_rate 之一，不能同时有",
    # plans, sheets and outputs
    "a plan file ends in .json or .xlsx": "方案文件应以 .json 或 .xlsx 结尾",
    "a submission sheet ends in .xlsx or .csv": "报名表应以 .xlsx 或 .csv 结尾",
    "expected a plan (.json, .xlsx) or a submission sheet (.xlsx, .csv)": "应为方案（.json、.xlsx）或报名表（.xlsx、.csv）",
    "a template .xlsx is filled into an .xlsx --out": "模板 .xlsx 只能填入 .xlsx 的 --out",
    "a .csv sheet has the tmall columns": ".csv 报名表使用 tmall 的列",
    "a template is an .xlsx workbook (save an .xls as .xlsx in Excel first)": "模板应为 .xlsx 工作簿（请先在 Excel 中把 .xls 另存为 .xlsx）",
    "a SKU holds control characters that no spreadsheet keeps; fix the SKU": "SKU 含有表格软件无法保存的控制字符；请修改 SKU",
    "the sheet is empty; expected a header row": "工作表为空；应有表头行",
    "missing SKU": "缺少 SKU",
    "missing column(s) {names}": "缺少列 {names}",
    "two coupon tiers share a threshold": "两档优惠券的门槛相同",
    "the plan does not record its {what} file; pass {option}": "方案没有记录其{what}文件；请传入 {option}",
    "the plan was {made} {recorded}, which is not there any more; pass {option}": "方案是用 {recorded} {made}的，该文件已不存在；请传入 {option}",
    "{count} joining SKU(s) of the plan are not in {path}: {skus}": "方案中 {count} 个参加活动的 SKU 不在 {path} 中：{skus}",
    "{count} SKU(s) of the plan are not in the products file: {skus}": "方案中 {count} 个 SKU 不在商品文件中：{skus}",
    "this is {clash}": "这是{clash}",
    "choose another output path (nothing was written)": "请换一个输出路径（未写出任何文件）",
    "{path} exists and was not written by price-opt (or was edited since)": "{path} 已存在，且不是 price-opt 写出的（或之后被编辑过）",
    "pass --force to replace it (the current file is kept as {backup})": "传入 --force 以替换（当前文件另存为 {backup}）",
    "cannot create the folder: {error}": "无法创建文件夹：{error}",
    "no coupon tiers given (use --no-coupons for none)": "没有给出优惠券档位（不设优惠券请用 --no-coupons）",
    "a SKU with an activity price is not in the products file": "有活动价的 SKU 不在商品文件中",
    "a buy-two-get-one member is not in the products file": "买二送一的商品不在商品文件中",
    "an activity price must be at least 0.01": "活动价至少为 0.01",
    "the ladder decomposition cannot enforce the [business] rules (or b2g1.max_products)": "阶梯分解法无法执行 [business] 规则（或 b2g1.max_products）",
    "use --method auto or milp": "请用 --method auto 或 milp",
    "{count} joining product(s) have no sku_id (SKU ID) in the products file, so their SKU ID cell in the upload sheet is empty: {skus}":
        "{count} 个报名商品在商品文件中没有 sku_id（SKU ID），上传表中它们的 SKU ID 为空：{skus}",
    # notes: fit, templates, sign-up
    "store means: elasticity {elasticity} (SKU spread sd {spread}), promo lift ×{promo}, feature lift ×{feature}, cross-elasticity {cross}":
        "全店平均：弹性 {elasticity}（SKU 间标准差 {spread}），促销提升 ×{promo}，资源位提升 ×{feature}，交叉弹性 {cross}",
    "the history has no promo column: promo lift 1 for every SKU": "历史数据没有 promo 列：每个 SKU 的促销提升为 1",
    "the history has no feature column: feature lift 1 for every SKU": "历史数据没有 feature 列：每个 SKU 的资源位提升为 1",
    "no categories (history or --products): no cannibalization term": "没有类目（历史数据或 --products）：不估计互相分流",
    "{count} SKUs have no rows in the fit window and are left out": "{count} 个 SKU 在拟合窗口内没有数据，已略去",
    "{count} template row(s) name SKUs that do not join the event (or are not in the products file)": "模板中 {count} 行的 SKU 不参加活动（或不在商品文件中）",
    "left as they were": "保持原样",
    "the template has no column for {names}": "模板中没有这些列：{names}",
    "store tools: exclusive (since 2026-03-10: a line takes the coupon or buy-two-get-one, whichever saves the buyer more)":
        "店铺工具：二选一（2026-03-10 起：每件商品只享受店铺券或买二送一中对买家更省的一个）",
    "store tools: stacked (before 2026-03-10: the coupon stacks with buy-two-get-one)":
        "店铺工具：叠加（2026-03-10 前：店铺券与买二送一叠加）",
    "sign-up (2026): the store coupon one unit reaches counts in the price after universal offers, as the coupons cover the whole activity cycle":
        "报名价（2026）：单件可用的店铺券计入通用优惠后的价格，因为优惠券覆盖整个活动周期",
    "sign-up (2026): the store coupons do not cover the whole activity cycle (coupons_cover_cycle = false), so the sign-up check does not count them":
        "报名价（2026）：店铺券没有覆盖整个活动周期（coupons_cover_cycle = false），报名校验不计入它们",
    "buyers still stack them, and the no-loss proof above counts them": "买家仍可叠加使用，上面的不亏本证明已计入",
    "{count} product(s) fail the sign-up check only because the coupons are not counted": "{count} 个商品只因为不计入优惠券而没有通过报名校验",
    "they would pass with coupons covering the cycle": "如果优惠券覆盖整个周期，它们会通过",
    # rules file
    "section {section}: {message}": "[{section}] 节：{message}",
    "unknown section {name}": "未知的节 {name}",
    "{name} (did you mean {hint}?)": "{name}（是否应为 {hint}？）",
    "accepted sections: {names}": "可用的节：{names}",
    "unknown key {names}": "未知的键 {names}",
    "unknown keys {names}": "未知的键 {names}",
    "accepted keys: {names}": "可用的键：{names}",
    "{where}: is not a number": "{where}：不是数字",
    "{where}: is not a number ({reason})": "{where}：不是数字（{reason}）",
    "{section} must be a section (a table)": "{section} 必须是一节（表）",
    "missing key(s) {names}": "缺少键 {names}",
    "expected threshold-amount in yuan, e.g. 299-20 or 满299减20": "应为“门槛-金额”（元），例如 299-20 或 满299减20",
    # what a key of the rules file holds (pricing.formats.rules)
    "a share as a number, e.g. 0.05": "以数字表示的比例，例如 0.05",
    "a number": "数字",
    "a whole number": "整数",
    "true or false": "true 或 false",
    "text in quotes": "带引号的文本",
    "a list of shares, e.g. [0.95, 0.90]": "比例列表，例如 [0.95, 0.90]",
    "a list of [threshold, amount] pairs in yuan, e.g. [[0, 5], [99, 10]]":
        "[门槛, 金额]（元）对的列表，例如 [[0, 5], [99, 10]]",
    '"hard" or a penalty in yuan, e.g. 5000': '"hard" 或以元为单位的罚金，例如 5000',
    # the rules models' own checks (models/rules.py)
    "a coupon must save less than its threshold": "优惠券的减免必须小于门槛",
    "cross_store_save must be below cross_store_every": "cross_store_save 必须小于 cross_store_every",
    "unknown time zone {name}": "未知的时区 {name}",
    "expected an IANA name such as Asia/Shanghai": "应为 IANA 时区名，例如 Asia/Shanghai",
    "at least one level is needed": "至少需要一个折扣档",
    "every level must be a share of the everyday price in [0.01, 1]":
        "每个折扣档都必须是日常价的比例，在 [0.01, 1] 之间",
    "a level has at most four decimals, e.g. 0.85 or 0.875": "折扣档最多四位小数，例如 0.85 或 0.875",
    "at most {count} levels": "最多 {count} 个折扣档",
    "levels must be distinct": "折扣档不能重复",
    "two coupon candidates share a threshold": "两个候选优惠券的门槛相同",
    "at most {count} coupon candidates": "最多 {count} 个候选优惠券",
    "at least one order band is needed": "至少需要一个订单金额段",
    "order band shares must add up to 1": "各订单金额段的占比之和必须为 1",
    "only the last order band is open-ended (no upto)": "只有最后一个订单金额段可以不设上限（upto）",
    "at most {count} offer candidates": "最多 {count} 个候选多件优惠",
    "two offer candidates are the same": "两个候选多件优惠相同",
    "two tiers of one offer share a number of pieces": "同一多件优惠的两档件数相同",
    "every rate must be from 0.10 to below 0.50 (超级立减: at least 10% and less than 50% of the activity price)":
        "每个比例都必须在 0.10 到 0.50（不含）之间（超级立减：活动价的至少 10%、少于 50%）",
    "a rate has at most four decimals, e.g. 0.15": "比例最多四位小数，例如 0.15",
    "rates must be distinct": "比例不能重复",
    "at most {count} rates": "最多 {count} 个比例",
}

# pydantic's own messages, by error type: the English template pydantic writes (its
# ``message_template_python``; tests/test_i18n_messages.py holds them to the installed pydantic)
# and the Chinese. The values ({lt}, {expected}, …) are kept as pydantic gives them; the rules
# reader writes the first letter in lower case, so both forms are known (see tr_message).
PYDANTIC_ZH: dict[str, tuple[str, str]] = {
    "missing": ("Field required", "缺少此项"),
    "extra_forbidden": ("Extra inputs are not permitted", "不允许多余的项"),
    "greater_than": ("Input should be greater than {gt}", "应大于 {gt}"),
    "greater_than_equal": ("Input should be greater than or equal to {ge}", "应不小于 {ge}"),
    "less_than": ("Input should be less than {lt}", "应小于 {lt}"),
    "less_than_equal": ("Input should be less than or equal to {le}", "应不大于 {le}"),
    "multiple_of": ("Input should be a multiple of {multiple_of}", "应为 {multiple_of} 的倍数"),
    "finite_number": ("Input should be a finite number", "应为有限的数"),
    "too_short": ("{field_type} should have at least {min_length} item{expected_plural} after "
                  "validation, not {actual_length}", "至少应有 {min_length} 项，而不是 {actual_length} 项"),
    "too_long": ("{field_type} should have at most {max_length} item{expected_plural} after "
                 "validation, not {actual_length}", "至多应有 {max_length} 项，而不是 {actual_length} 项"),
    "string_type": ("Input should be a valid string", "应为文本"),
    "string_too_short": ("String should have at least {min_length} character{expected_plural}",
                         "至少应有 {min_length} 个字符"),
    "string_too_long": ("String should have at most {max_length} character{expected_plural}",
                        "至多应有 {max_length} 个字符"),
    "string_pattern_mismatch": ("String should match pattern '{pattern}'", "应符合格式 '{pattern}'"),
    "literal_error": ("Input should be {expected}", "应为 {expected}"),
    "enum": ("Input should be {expected}", "应为 {expected}"),
    "dict_type": ("Input should be a valid dictionary", "应为表（键 = 值）"),
    "model_type": ("Input should be a valid dictionary or instance of {class_name}",
                   "应为表（键 = 值）"),
    "list_type": ("Input should be a valid list", "应为列表"),
    "tuple_type": ("Input should be a valid tuple", "应为列表"),
    "bool_type": ("Input should be a valid boolean", "应为 true 或 false"),
    "bool_parsing": ("Input should be a valid boolean, unable to interpret input",
                     "应为 true 或 false，无法识别"),
    "int_type": ("Input should be a valid integer", "应为整数"),
    "int_parsing": ("Input should be a valid integer, unable to parse string as an integer",
                    "应为整数，无法把文本读作整数"),
    "int_from_float": ("Input should be a valid integer, got a number with a fractional part",
                       "应为整数，而不是带小数的数"),
    "float_type": ("Input should be a valid number", "应为数字"),
    "float_parsing": ("Input should be a valid number, unable to parse string as a number",
                      "应为数字，无法把文本读作数字"),
    "decimal_type": ("Decimal input should be an integer, float, string or Decimal object",
                     "应为数字"),
    "decimal_parsing": ("Input should be a valid decimal", "应为十进制数"),
    "decimal_max_places": ("Decimal input should have no more than {decimal_places} decimal "
                           "place{expected_plural}", "至多 {decimal_places} 位小数"),
    "decimal_max_digits": ("Decimal input should have no more than {max_digits} "
                           "digit{expected_plural} in total", "总共至多 {max_digits} 位数字"),
    "date_type": ("Input should be a valid date", "应为日期"),
    "value_error": ("Value error, {error}", "{error}"),
}


@functools.cache
def _pydantic_messages() -> dict[str, str]:
    """:data:`PYDANTIC_ZH` as catalogue entries: each template with its first letter in either
    case, and ``{expected_plural}`` written out (``item`` / ``items``: a placeholder is never
    empty)."""
    entries: dict[str, str] = {}
    for english, chinese in PYDANTIC_ZH.values():
        for plural in ("", "s"):
            written = english.replace("{expected_plural}", plural)
            for form in (written, written[:1].lower() + written[1:]):
                entries[form] = chinese
    return entries


# A problem about one key of the rules file: ``section.key: …`` or ``section.key item 2: …``.
_RULES_KEY_MESSAGE = re.compile(
    r"(?P<key>[a-z_]+\.[a-z0-9_]+)(?: item (?P<item>\d+))?: (?P<message>.+)", re.DOTALL)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def _message_templates() -> tuple[tuple[str, str, str], ...]:
    """Every catalogue key with placeholders as ``(its literal start, its regex, the Chinese)``,
    the most specific (longest) first. A regex is compiled only when a message begins with the
    key's literal start (:func:`_message_pattern`): a command that translates one warning
    compiles a few, not every one of them."""
    templates = []
    catalogue = {**ZH, **MESSAGES_ZH, **_pydantic_messages()}
    for key, chinese in sorted(catalogue.items(), key=lambda kv: -len(kv[0])):
        if not _PLACEHOLDER.search(key) or _has_format_spec(key):
            continue  # a key with ``{x:.2f}`` is a format string for tr(), never a message
        parts = _PLACEHOLDER.split(key)  # literal, name, literal, name, …, literal
        regex = "".join(
            # a value never spans a "; " (that separates the pieces of a message)
            re.escape(part) if position % 2 == 0 else f"(?P<{part}>(?:(?!; ).)+?)"
            for position, part in enumerate(parts)
        )
        templates.append((parts[0], regex, chinese))
    return tuple(templates)


def _has_format_spec(key: str) -> bool:
    """Whether a catalogue key has a field with a format spec or conversion (``{solve:.2f}``):
    such keys are formatted with their values by :func:`tr`; a message the library wrote
    never holds one, and as a pattern it would leave the spec's field without a value."""
    return any(
        name is not None and (spec or conversion)
        for _, name, spec, conversion in string.Formatter().parse(key)
    )


@functools.cache
def _message_pattern(regex: str) -> re.Pattern[str] | None:
    """One template's compiled pattern; None for a key that names a placeholder twice (such a
    key is matched exactly only)."""
    try:
        return re.compile(regex, re.DOTALL)
    except re.error:
        return None


# pydantic's list of allowed values: ``'cross_store', 'official' or 'none'``
_ALTERNATIVES = re.compile(r"'[^']*'(?:, '[^']*')* or '[^']*'")


def _alternatives_zh(value: str) -> str:
    """A list of quoted allowed values in Chinese punctuation (``'a'、'b' 或 'c'``); any
    other value as it is."""
    if _ALTERNATIVES.fullmatch(value) is None:
        return value
    head, last = value.rsplit(" or ", 1)
    return head.replace("', '", "'、'") + " 或 " + last


def _message_piece(text: str) -> str | None:
    """One message (or one ``; ``-separated piece of it) in Chinese, or None if unknown."""
    exact = MESSAGES_ZH.get(text, ZH.get(text, _pydantic_messages().get(text)))
    if exact is not None:
        return exact
    keyed = _RULES_KEY_MESSAGE.fullmatch(text)
    if keyed is not None:  # the key stays as written; what is wrong with it is translated
        message = _message_piece(keyed["message"])
        if message is not None:
            item = f" 第 {keyed['item']} 项" if keyed["item"] else ""
            return f"{keyed['key']}{item}：{message}"
    for start, regex, chinese in _message_templates():
        if not text.startswith(start):
            continue  # a key's literal start is where its pattern must match first
        pattern = _message_pattern(regex)
        match = None if pattern is None else pattern.fullmatch(text)
        if match is not None:
            values = {name: _message_piece(value) or _alternatives_zh(value)
                      for name, value in match.groupdict().items()}
            return chinese.format(**values)
    return None


def tr_message(text: str, lang: str) -> str:
    """A message of the library (an input problem's detail, a warning, a note) in ``lang``.

    The library writes English; in Chinese the message is looked up whole, else each piece
    between ``"; "`` is looked up on its own (``empty; expected …`` → ``为空；应为…``), and
    a piece the catalogue does not know stays in English.
    """
    if lang != "zh" or not text:
        return text
    whole = _message_piece(text)
    if whole is not None:
        return whole
    pieces = text.split("; ")
    if len(pieces) == 1:
        return text
    return "；".join(_message_piece(piece) or piece for piece in pieces)
