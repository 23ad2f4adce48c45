"""The customer and group part of benches/reconcile_site.rs, written as the straightforward script a user of
atlassian-python-api 5.x would write: for each row of the CSV, create the customer and add it to its desks, or
find the agent's account and add it to its groups. The library's own retry on 429/503 is turned on
(`backoff_and_retry=True`), as its documentation advises for Atlassian Cloud. Prints one JSON line.

Usage: python atlassian_python_reconcile.py BASE_URL EMAIL TOKEN PEOPLE.csv
"""

import csv
import json
import sys
import time

from atlassian import Jira, ServiceDesk

ACCESS_GROUP = "jira-servicemanagement-users"


def main():
    base, email, token, path = sys.argv[1:5]
    url = base + "/atlassian.net"
    common = dict(url=url, username=email, password=token, cloud=True, timeout=30, backoff_and_retry=True)
    jira = Jira(**common)
    sd = ServiceDesk(**common)
    calls = 0
    errors = []
    started = time.monotonic()

    desks = {d["projectKey"]: d["id"] for d in sd.get_service_desks()}
    calls += 1
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        try:
            if row["kind"] == "agent":
                found = jira.user_find_by_user_string(query=row["email"])
                calls += 1
                account_id = found[0]["accountId"]
                for group in [ACCESS_GROUP] + [g for g in row["groups"].split(";") if g]:
                    jira.add_user_to_group(group_name=group, account_id=account_id)
                    calls += 1
            else:
                customer = sd.create_customer(row["display_name"], row["email"])
                calls += 1
                for key in [d for d in row["service_desks"].split(";") if d]:
                    sd.add_customers(desks[key], list_of_accountids=[customer["accountId"]])
                    calls += 1
        except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
            if len(errors) < 10:
                errors.append(f"{row['email']}: {e}")
            else:
                errors.append("…")

    print(json.dumps({
        "wall_s": time.monotonic() - started,
        "calls": calls,
        "rows": len(rows),
        "errors": len(errors),
        "first_errors": errors[:5],
    }))


if __name__ == "__main__":
    main()
