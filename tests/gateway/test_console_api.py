"""What the ops console starts from: /v1/whoami, /v1/geography; its pages and files served by
the gateway (only allow-listed vendor files, 404 for pages not built, 503 naming `make setup`
without the front-end packages); /docs from the gateway's own Swagger UI."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import shapely
from shapely.geometry import shape

from cityvitals.embedded import EmbeddedMosquitto
from gateway.console_files import VENDOR
from schemas.geography import Geography
from tests.gateway.conftest import Gateway, assert_error, gateway_settings, running_gateway
from tests.harness import ScratchDatabase


async def test_whoami_names_the_key_and_its_role(gateway: Gateway) -> None:
    for role in ("viewer", "operator", "admin"):
        answer = await gateway.get("/v1/whoami", role=role)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["name"], body["role"]) == (f"test-{role}", role)
        assert gateway.keys[role].startswith(f"cvk_{body['id']}_")
    assert_error(await gateway.get("/v1/whoami", role=None), 401)
    assert_error(await gateway.get("/v1/whoami", role="ingest"), 403)


async def test_geography_is_every_configured_subdistrict_as_geojson(
    gateway: Gateway, geography: Geography
) -> None:
    answer = await gateway.get("/v1/geography")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["city"] == {
        "code": geography.city.code,
        "name_zh": geography.city.zh,
        "name_en": geography.city.en,
    }
    assert [d["code"] for d in body["districts"]] == list(geography.districts)
    for district in body["districts"]:
        assert district["subdistricts"] == list(geography.districts[district["code"]].subdistricts)
        assert district["name_zh"] == geography.districts[district["code"]].zh
    collection = body["subdistricts"]
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [s.code for s in geography]
    for feature in collection["features"]:
        place = geography.subdistricts[feature["id"]]
        assert feature["properties"] == {
            "code": place.code,
            "name_zh": place.zh,
            "name_en": place.en,
            "district": place.district,
            "label_point": [place.lon, place.lat],
        }
        assert shapely.equals(shape(feature["geometry"]), place.area), place.code
    assert_error(await gateway.get("/v1/geography", role=None), 401)


async def test_console_pages_and_files(gateway: Gateway) -> None:
    wall = await gateway.get("/console/", role=None)
    assert wall.status_code == 200, wall.text
    assert wall.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/assets/js/main.js">' in wall.text
    policy = wall.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    bare = await gateway.get("/console", role=None)
    assert (bare.status_code, bare.headers["location"]) == (308, "/console/")
    for duty_page in ("/console/alerts", "/console/alerts/", "/console/alerts/abc/"):
        assert (await gateway.get(duty_page, role=None)).status_code == 200, duty_page
    for not_built in ("/console/alerts/abc/more",):
        assert_error(await gateway.get(not_built, role=None), 404, "path")
    for built in ("/console/sensors/", "/console/sensors/yp-wp-0001", "/console/dead-letters"):
        assert (await gateway.get(built, role=None)).text == wall.text
    for no_page in ("/console/sensors/a/b", "/console/dead-letters/1"):
        assert_error(await gateway.get(no_page, role=None), 404, "path")
    script = await gateway.get("/console/assets/js/main.js", role=None)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    labels = await gateway.get("/console/assets/i18n/zh.json", role=None)
    assert labels.json()["app.title"] == "城市生命体征"
    echarts = await gateway.get("/console/assets/vendor/echarts.esm.min.mjs", role=None)
    assert echarts.status_code == 200
    assert echarts.headers["content-type"].startswith("text/javascript")
    assert "registerMap" in echarts.text
    # Only allow-listed vendor files; nothing outside the console's own folder.
    for refused in (
        "/console/assets/vendor/package.json",
        "/console/assets/vendor/..%2F..%2Fpackage.json",
        "/console/assets/../../app.py",
        "/console/assets/%2E%2E/%2E%2E/app.py",
        "/console/assets/js",
    ):
        assert_error(await gateway.get(refused, role=None), 404)


async def test_docs_use_the_gateways_own_swagger_ui(gateway: Gateway) -> None:
    docs = await gateway.get("/docs", role=None)
    assert docs.status_code == 200, docs.text
    assert "/console/assets/vendor/swagger-ui-bundle.js" in docs.text
    assert "/console/assets/vendor/swagger-ui.css" in docs.text
    assert "https://" not in docs.text
    assert "http://" not in docs.text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-favicon.png"):
        asset = await gateway.get(f"/console/assets/vendor/{name}", role=None)
        assert asset.status_code == 200, name


async def test_without_the_packages_the_console_says_to_run_make_setup(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, now: datetime, tmp_path: Path
) -> None:
    settings = gateway_settings(prepared.url, mqtt_broker.url)
    missing = tmp_path / "node_modules"
    async with running_gateway(settings, prepared.url, now, console_packages=missing) as gateway:
        for path in ("/console/", "/docs", "/console/assets/vendor/echarts.esm.min.mjs"):
            body = assert_error(await gateway.get(path, role=None), 503)
            assert "make setup" in body["detail"], path
            assert str(missing) in body["detail"], path
        # The API itself is unaffected.
        assert (await gateway.get("/v1/whoami")).status_code == 200


def test_a_build_made_after_setup_carries_the_vendor_files(tmp_path: Path) -> None:
    # What `pip install .` puts into the image (deploy/Dockerfile): the allow-listed vendor
    # files and their licences, from the node_modules `make setup` filled.
    root = Path(__file__).parents[2]
    build = ["-c", "import setuptools; setuptools.setup()", "-q", "build_py"]
    subprocess.run(
        [sys.executable, *build, "--build-lib", str(tmp_path)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    built = tmp_path / "gateway" / "console" / "node_modules"
    for name, inside in VENDOR.items():
        assert (built / inside).is_file(), name
    for package in ("echarts", "swagger-ui-dist"):
        assert (built / package / "LICENSE").is_file(), package
    assert (tmp_path / "gateway" / "console" / "static" / "js" / "main.js").is_file()
    assert not (built / "echarts" / "package.json").exists()  # only what is listed
