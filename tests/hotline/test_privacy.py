"""Masking of phone and ID-card numbers: as residents type them, and nothing else."""
from __future__ import annotations

import pytest

from hotline.privacy import mask_phone, mask_text


@pytest.mark.parametrize("said,masked", [
    ("我电话13912345678", "我电话139****5678"),
    ("139 1234 5678", "139****5678"),
    ("139-1234-5678", "139****5678"),
    ("+86 139 1234 5678", "+86 139****5678"),
    ("+86-139-1234-5678", "+86-139****5678"),
    ("+8613912345678", "+86139****5678"),
    ("8613912345678", "86139****5678"),
    ("１３９１２３４５６７８", "139****5678"),  # full-width digits, as a Chinese IME types them
    ("座机025-84567890", "座机025****7890"),
    ("02584567890", "025****7890"),
    ("010 6123 4567", "010****4567"),
    ("0516-8456789", "0516****6789"),
    ("打8456 7890找我", "打****7890找我"),
    ("或者84567890", "或者****7890"),
    ("身份证320102199001011234", "身份证320102********1234"),
    ("身份证 320102 19900101 123X", "身份证 320102********123X"),
    ("身份证320102-1990-0101-123x", "身份证320102********123x"),
])
def test_numbers_are_masked_however_they_are_written(said, masked):
    assert mask_text(said) == masked


@pytest.mark.parametrize("text", [
    "2023年共受理咨询电话527519个",
    "省12345工单15372511件",
    "打12320或者120",
    "我的工单TS-20261122-0001怎么样了",
    "2019年10月鼓楼医院43519次",
    "11月20日上午9点",
])
def test_figures_dates_and_ticket_numbers_are_left_as_they_are(text):
    assert mask_text(text) == text


def test_several_numbers_in_one_message():
    text = "手机13912345678，备用 13800001111，身份证320102199001011234，座机025-84567890"
    masked = mask_text(text)
    for clear in ("13912345678", "13800001111", "199001011234", "84567890"):
        assert clear not in masked
    assert masked == "手机139****5678，备用 138****1111，身份证320102********1234，座机025****7890"


def test_mask_phone_for_confirmations():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("02584567890") == "025****7890"
    assert mask_phone("05168456789") == "0516****6789"
    assert mask_phone("84567890") == "****7890"
    assert mask_phone("不留") == "不留"
