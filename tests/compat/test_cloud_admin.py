"""atlassian-python-api's ``CloudAdmin`` (5.0.5, unchanged) against the emulator.

Its admin URL is a module constant (``atlassian.cloud_admin.ADMIN_URL``); pointing
it at the emulator is the only change.  The SCIM calls use the directory key and
the lifecycle call the organization key, as at Atlassian.
"""

from __future__ import annotations

import uuid

import pytest
import requests

import atlassian.cloud_admin as cloud_admin
from atlassian import CloudAdmin
from conftest import ADMIN_EMAIL, Control, DemoFacts

DIRECTORY_ID = "d0d0d0d0-0000-4000-8000-000000000001"  # --directory-id default
SCIM_TOKEN = "scim-emulator-directory-key"  # --scim-token default
ORG_KEY = "org-emulator-admin-key"  # --org-api-key default
ATLASSIAN_EXT = "urn:scim:schemas:extension:atlassian-external:1.0"


@pytest.fixture
def admin_url(base_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(cloud_admin, "ADMIN_URL", base_url)
    return base_url


def jira_user(base_url: str, admin_token: str, account_id: str) -> dict:
    resp = requests.get(
        f"{base_url}/rest/api/3/user",
        params={"accountId": account_id},
        auth=(ADMIN_EMAIL, admin_token),
        timeout=15,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_scim_create_deactivate_without_schemas_and_duplicate(
    admin_url: str, admin_token: str, fresh: Control
) -> None:
    scim = CloudAdmin(admin_api_key=SCIM_TOKEN)
    email = f"py-{uuid.uuid4().hex[:8]}@idp.example"
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Py", "familyName": "Thon"},
        "displayName": "Py Thon",
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }
    created = scim.create_scim_user(DIRECTORY_ID, user)
    assert created["userName"] == email
    assert created["active"] is True
    account_id = created[ATLASSIAN_EXT]["atlassianAccountId"]
    assert created["id"] != account_id
    assert created["meta"]["location"].endswith("/Users/" + created["id"])
    jira = jira_user(admin_url, admin_token, account_id)
    assert jira["displayName"] == "Py Thon"
    assert jira["active"] is True

    found = scim.get_scim_users(DIRECTORY_ID, filter=f'userName eq "{email}"')
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == created["id"]

    # patch_scim_user sends {"Operations": [...]} with no "schemas", as IdPs do.
    patched = scim.patch_scim_user(
        DIRECTORY_ID, created["id"], [{"op": "replace", "path": "active", "value": "False"}]
    )
    assert patched["active"] is False
    assert scim.get_scim_user(DIRECTORY_ID, created["id"])["active"] is False
    assert jira_user(admin_url, admin_token, account_id)["active"] is False

    with pytest.raises(requests.HTTPError) as err:
        scim.create_scim_user(DIRECTORY_ID, user)
    assert err.value.response.status_code == 409
    body = err.value.response.json()
    assert body["status"] == "409"
    assert body["scimType"] == "uniqueness"

    scim.delete_scim_user(DIRECTORY_ID, created["id"])
    with pytest.raises(requests.HTTPError) as err:
        scim.get_scim_user(DIRECTORY_ID, created["id"])
    assert err.value.response.status_code == 404


def test_lifecycle_disable_and_enable(
    admin_url: str, admin_token: str, fresh: Control, demo: DemoFacts
) -> None:
    admin = CloudAdmin(admin_api_key=ORG_KEY)
    account_id = demo.other_agent.account_id
    assert admin.deactivate_user(account_id, message="Left the company") is None
    assert jira_user(admin_url, admin_token, account_id)["active"] is False
    token = fresh.create_token(demo.other_agent.email)["token"]
    resp = requests.get(
        f"{admin_url}/rest/api/3/myself", auth=(demo.other_agent.email, token), timeout=15
    )
    assert resp.status_code == 401, "a disabled account's API tokens stop working"
    orgs = admin.get_organizations()
    assert orgs["data"][0]["type"] == "orgs"
    admin.activate_user(account_id)
    assert jira_user(admin_url, admin_token, account_id)["active"] is True

    with pytest.raises(requests.HTTPError) as err:
        admin.deactivate_user("no-such-account")
    assert err.value.response.status_code == 404
    assert err.value.response.json()["key"] == "accountNotFound"
