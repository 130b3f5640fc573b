"""The Chinese column headers of the measures in the report workbooks, and
which measures are money (fen, shown in yuan) or hours (hundredths, shown in hours)."""

from __future__ import annotations

#: Chinese column headers of the measures; money in yuan and hours in hours in
#: the workbooks (the API keeps integer fen and hundredths)
LABELS: dict[str, str] = {
    "instruments_must_list": "应入网仪器（台）",
    "instruments_listed": "已入网仪器（台）",
    "instruments_listed_on_time": "按时入网仪器（台）",
    "instruments_listed_voluntarily": "自愿入网仪器（台）",
    "listed_value_fen": "入网仪器原值（元）",
    "instruments_overdue": "逾期未入网仪器（台）",
    "orders_contracted": "签订合同（单）",
    "orders_served": "完成服务（单）",
    "service_hours_centi": "服务机时（小时）",
    "effective_minutes": "有效工作机时（分钟）",
    "outside_minutes": "对外服务机时（分钟）",
    "instruments_idle": "闲置仪器（台）",
    "outside_users_served": "服务外部用户（家）",
    "voucher_orders": "使用创新券订单（单）",
    "revenue_fen": "服务收入（元）",
    "revenue_voucher_fen": "其中创新券抵扣（元）",
    "ratings_count": "评价（次）",
    "ratings_sum": "评价星级合计",
    "vouchers_refused": "拒收创新券（次）",
    "complaints": "投诉（次）",
}
YUAN = frozenset({"listed_value_fen", "revenue_fen", "revenue_voucher_fen"})
HOURS = frozenset({"service_hours_centi"})
