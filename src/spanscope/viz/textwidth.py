"""Text widths for the SVG images, without a browser: advances of the fonts they ask for.

Contract: ``text_width(text, size_px)`` is the width in px that ``text`` takes in the images'
sans-serif stack (``spanscope.viz.svg.FONT``) at ``size_px``, meant as an upper bound: labels
placed by it never overlap or run past an edge. ``fit_width(text, width_px, size_px)`` is
``text``, or its longest prefix plus "…", whose ``text_width`` is at most ``width_px`` ("" if
not even one character and the ellipsis fit).

The table holds, per character, the larger advance (in 1/1000 em) of DejaVu Sans (what
``system-ui`` and ``sans-serif`` are on most Linux desktops, and among the widest sans fonts)
and Liberation Sans (the metrics of Arial and Helvetica), for Basic Latin, Latin-1, Latin
Extended A/B, Greek, Cyrillic, general punctuation, currency signs and arrows, as Chromium
measures them (``tests/viz/test_textwidth.py`` checks it against the fonts and can print it
again). Segoe UI, San Francisco and Roboto are narrower, so there a label ends a little early
rather than late. Outside the table: combining marks and format characters take no room, East
Asian wide characters a full em, emoji 1.3 em, anything else an em (no common font is wider).
Kerning and ligatures only narrow a word, so a sum of advances stays an upper bound.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"

# first code point of a block: the advances of it and the characters after it, 1/1000 em
_TABLE: dict[int, str] = {
    0x0020: (
        "318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 "
        "636 636 636 636 337 337 838 838 838 556 1015 684 686 722 770 667 611 778 752 295 500 667 "
        "557 863 748 787 667 787 722 667 611 732 684 989 685 667 685 390 337 390 838 556 500 613 "
        "635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 "
        "592 592 525 636 337 636 838 "
    ),
    0x00A0: (
        "318 401 636 636 636 636 337 556 500 1000 471 612 838 0 1000 552 500 838 401 401 500 636 "
        "636 318 500 401 471 612 969 969 969 611 684 684 684 684 684 684 1000 722 667 667 667 667 "
        "295 295 295 295 775 748 787 787 787 787 787 838 787 732 732 732 732 667 667 630 613 613 "
        "613 613 613 613 982 550 615 615 615 615 278 278 278 278 612 634 612 612 612 612 612 838 "
        "612 634 634 634 634 592 635 592 684 613 684 613 684 613 722 550 722 550 722 550 722 550 "
        "770 635 775 635 667 615 667 615 667 615 667 615 667 615 778 635 778 635 778 635 778 635 "
        "752 634 916 695 295 278 295 278 295 278 295 278 295 278 735 556 500 278 667 579 579 557 "
        "278 557 278 557 375 557 342 562 284 748 634 748 634 748 634 813 748 634 787 612 787 612 "
        "787 612 1070 1023 722 411 722 411 722 411 667 521 667 521 667 521 667 521 611 392 611 "
        "392 611 392 732 634 732 634 732 634 732 634 732 634 732 634 989 818 667 592 667 685 525 "
        "685 525 685 525 352 635 735 686 635 686 635 703 698 550 775 819 686 635 612 632 787 614 "
        "575 556 775 687 984 354 295 746 579 278 592 974 748 634 787 913 612 949 759 652 635 695 "
        "635 521 632 336 392 611 392 611 858 634 764 721 744 730 685 525 666 666 578 525 636 666 "
        "578 510 635 295 492 459 295 1422 1299 1154 835 787 457 931 924 797 684 613 295 278 787 "
        "612 732 634 732 634 732 634 732 634 732 634 615 684 613 684 613 974 982 775 635 775 635 "
        "656 579 787 612 787 612 666 578 278 1422 1299 1154 775 635 1113 682 748 634 684 613 1000 "
        "982 787 612 684 613 684 613 632 615 632 615 295 278 295 278 787 612 787 612 695 411 695 "
        "411 732 634 732 634 667 521 611 392 627 521 752 634 735 838 698 610 685 525 684 613 632 "
        "615 787 612 787 612 787 612 787 612 611 592 475 843 477 278 998 998 684 698 550 557 611 "
        "521 525 603 479 686 732 684 632 615 295 278 781 635 695 411 611 592 "
    ),
    0x0370: (
        "654 568 862 647 278 278 748 650 600 600 500 549 550 549 337 295 600 600 600 600 500 500 "
        "692 318 784 871 408 600 813 600 855 826 338 684 686 557 684 667 685 752 787 295 667 684 "
        "863 748 650 787 752 667 600 632 611 667 798 685 835 764 295 667 659 541 634 338 579 659 "
        "638 592 612 541 544 634 612 338 589 592 636 559 558 612 690 635 587 634 602 579 660 578 "
        "713 837 338 579 612 579 837 656 614 619 699 842 699 660 837 664 787 612 648 587 575 458 "
        "660 660 865 627 934 837 758 659 792 615 687 607 768 625 699 612 611 536 664 635 550 278 "
        "787 615 615 605 635 698 863 651 635 703 698 703 "
    ),
    0x0400: (
        "667 667 865 610 719 667 295 295 500 1094 1045 854 710 748 635 752 684 686 686 610 781 "
        "667 1077 641 748 748 710 752 863 752 787 752 667 722 611 635 861 685 776 686 1069 1094 "
        "833 885 686 719 1080 722 613 617 589 525 691 615 901 532 650 650 604 639 754 654 612 654 "
        "635 550 583 592 855 592 681 591 915 942 707 790 589 549 842 602 615 615 625 525 549 521 "
        "278 278 278 906 898 652 604 650 592 654 934 837 771 672 942 749 879 783 1160 1001 787 "
        "612 1027 824 636 541 856 876 787 612 781 665 781 665 992 904 953 758 1180 1028 934 837 "
        "698 550 502 0 0 0 0 0 418 418 772 677 686 589 603 635 610 525 675 590 624 530 1077 901 "
        "641 532 710 604 710 604 710 604 856 832 752 661 1014 877 1081 916 878 693 698 550 611 "
        "583 611 592 611 592 685 592 934 807 686 591 686 591 686 634 941 728 941 728 295 1077 901 "
        "656 604 776 670 752 661 776 681 686 591 888 774 278 684 613 684 613 974 982 632 615 787 "
        "615 787 615 1077 901 641 532 666 578 748 650 748 650 787 612 787 612 787 612 698 549 609 "
        "592 609 592 609 592 686 591 610 525 882 790 675 590 685 592 685 592 "
    ),
    0x2010: (
        "361 361 636 556 1000 1000 500 552 318 318 318 318 518 518 518 518 556 556 590 590 334 "
        "667 1000 318 278 278 0 0 0 0 0 200 1342 1735 227 374 520 227 374 520 339 400 400 838 500 "
        "531 500 804 804 250 1000 500 167 390 390 922 733 733 497 636 500 500 500 337 804 500 450 "
        "1000 804 838 586 663 838 838 318 797 838 318 318 "
    ),
    0x20A0: (
        "877 636 636 636 636 974 636 1272 1074 989 784 636 636 636 636 1272 636 636 636 636 774 "
        "636 600 600 636 636 636 600 600 636 600 600 "
    ),
    0x2190: (
        "1000 838 1000 838 1000 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 "
        "838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 "
        "838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 "
        "838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 "
        "838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 838 "
        "838 838 838 "
    ),
}
_ADVANCE: dict[int, int] = {
    start + offset: int(value)
    for start, values in _TABLE.items()
    for offset, value in enumerate(values.split())
}


@lru_cache(maxsize=4096)
def _em(char: str) -> float:
    """The advance of one character in em."""
    code = ord(char)
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf") or unicodedata.combining(char):
        return 0.0
    known = _ADVANCE.get(code)
    if known:  # a 0 in the table is a code point the fonts do not have: the rules below
        return known / 1000
    if code >= 0x1F000:
        return 1.3
    return 1.0


def text_width(text: str, size_px: float) -> float:
    """Width of ``text`` in px at ``size_px`` (see the module contract)."""
    return sum(_em(char) for char in text) * size_px


def fit_width(text: str, width_px: float, size_px: float) -> str:
    """``text``, or its longest prefix and "…", within ``width_px`` (see the module contract)."""
    if text_width(text, size_px) <= width_px:
        return text
    room = width_px - _em(ELLIPSIS) * size_px
    used = 0.0
    for index, char in enumerate(text):
        used += _em(char) * size_px
        if used > room:
            return text[:index].rstrip() + ELLIPSIS if index else ""
    return text  # not reached: the whole text was wider than the room
