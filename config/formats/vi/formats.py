"""One date format for Vietnamese readers everywhere (pages, console, e-mails): 30/11/2026 and
30/11/2026 10:19, instead of Django's three ("10:19 Ngày 30 tháng 11 năm 2026", "30-11-2026",
"30/11"). Numbers keep Django's Vietnamese separators (1.234,5)."""

DATE_FORMAT = SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "d/m"
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
