"""Publishing records over HTTP: file upload (incl. GB18030), JSON rows, reports, rejections download."""

from __future__ import annotations

import csv
import io

from tests.factories import publish
from tests.integration.test_data_load import pid


def upload(client, city, code, content: bytes, name="people.csv", **form):
    return client.post(
        f"/api/v1/data/resources/{code}/batches",
        files={"file": (name, content, "text/csv")},
        data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
        headers=city.headers("police_officer"),
    )


def csv_bytes(rows, encoding="utf-8") -> bytes:
    lines = ["公民身份号码,姓名,出生日期", *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_gb18030_upload_is_detected_and_loaded(client, session, city):
    r = publish(session, city, city.police_officer)
    resp = upload(
        client,
        city,
        r.code,
        csv_bytes([(pid(1), "张三", "1980-01-02"), (pid(2), "欧阳娜娜", "1980/1/3")], "gb18030"),
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["inserted"] == 2
    again = upload(
        client,
        city,
        r.code,
        csv_bytes([(pid(1), "张三", "1980-01-02"), (pid(2), "欧阳娜娜", "1980/1/3")], "gb18030"),
    )
    assert again.status_code == 200 and again.json()["already_applied"]


def test_rejections_are_downloadable_as_csv(client, session, city):
    r = publish(session, city, city.police_officer)
    resp = upload(
        client, city, r.code, csv_bytes([(pid(1), "张三", "1980-01-02"), ("123", "李四", "1980-01-02")])
    )
    body = resp.json()
    assert body["rejected"] == 1 and body["rejections"][0]["row"] == 3
    report = client.get(
        f"/api/v1/data/batches/{body['batch_id']}/rejections.csv", headers=city.headers("police_officer")
    )
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["3", "公民身份号码", "invalid_length"]


def test_strict_refusal_uses_the_error_shape(client, session, city):
    r = publish(session, city, city.police_officer)
    resp = upload(client, city, r.code, csv_bytes([(pid(1), "张三", "1980-13-02")]), strict=True)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "batch_rejected"
    assert resp.json()["error"]["details"]["inserted"] == 0


def test_json_rows_endpoint_and_load_history(client, session, city):
    r = publish(session, city, city.police_officer)
    rows = [{"公民身份号码": pid(1), "姓名": "张三", "出生日期": "1980-01-02"}]
    resp = client.post(
        f"/api/v1/data/resources/{r.code}/records",
        json={"rows": rows},
        headers=city.headers("police_officer"),
    )
    assert resp.status_code == 201 and resp.json()["inserted"] == 1
    history = client.get(f"/api/v1/data/resources/{r.code}/batches", headers=city.headers("admin")).json()
    assert [b["inserted"] for b in history] == [1]
    denied = client.get(f"/api/v1/data/resources/{r.code}/batches", headers=city.headers("market_officer"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "not_provider"


def test_other_department_cannot_load(client, session, city):
    r = publish(session, city, city.police_officer)
    resp = client.post(
        f"/api/v1/data/resources/{r.code}/records", json={"rows": []}, headers=city.headers("market_officer")
    )
    assert resp.status_code == 403


def test_unreadable_file_is_a_clear_error(client, session, city):
    r = publish(session, city, city.police_officer)
    resp = upload(client, city, r.code, b"\x00\x01\x02garbage", name="people.xlsx")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] in {"invalid_xlsx", "unsupported_format"}
