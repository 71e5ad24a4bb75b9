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

import math
import os
import re
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
    "Finding the lowest paid prices": "正在计算最低到手价",
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
    "store tools: exclusive (since 2026-03-10: a line takes the coupon or buy-two-get-one, "
    "whichever saves the buyer more)":
        "店铺优惠：互斥择优（2026-03-10 起，每个子订单只用优惠券或买二送一中优惠更大的一个）",
    "store tools: stacked (before 2026-03-10: the coupon stacks with buy-two-get-one)":
        "店铺优惠：叠加（2026-03-10 以前，优惠券与买二送一叠加）",
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
