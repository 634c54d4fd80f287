"""Regions: China's administrative divisions (GB/T 2260 codes): "合肥", "合肥市" and "Hefei" are one region.

A region is the text a member wrote (kept as written) plus, where the text names a division of
``models/regions/cn_divisions.csv`` (see its NOTICE), that division's six-digit code. :func:`resolve`
accepts, case-insensitively and ignoring spaces, hyphens and apostrophes:

- the code itself ("340100");
- the full name ("合肥市", "安徽省"), or the short name with or without its suffix ("合肥", "安徽");
- the pinyin ("Hefei", "hefei"), alone or with an English or pinyin suffix ("Hefei City", "Anhui Province",
  "Hefei Shi");
- a province before the name ("安徽省合肥市", "安徽合肥", "Hefei, Anhui"), which also settles a short name
  two provinces share.

A spelling several divisions share goes to the larger division (吉林 is the province, 吉林市 the city;
"Hebei" is the province, not Tianjin's 河北区), and a suffix narrows the choice ("Jilin City" is the city,
"朝阳区" a district). Where the largest candidates are still several (two cities both "Taizhou", two districts
both "朝阳区"), the text stays text: it is not guessed.

Filters compare codes, and a division contains its own divisions: the region 合肥 (340100) takes in
蜀山区 (340104), the province 安徽 (340000) every place in Anhui (:func:`code_prefix`). A region that is in
no list (a foreign city) is compared by its normal form (:func:`region_key`: NFKC, case-folded, spaces
collapsed).
"""

from service.regions.divisions import (
    CITY,
    COUNTY,
    PROVINCE,
    Division,
    code_prefix,
    display_name,
    division,
    region_key,
    resolve,
    standard_name,
)

__all__ = [
    "CITY",
    "COUNTY",
    "PROVINCE",
    "Division",
    "code_prefix",
    "display_name",
    "division",
    "region_key",
    "resolve",
    "standard_name",
]
