"""The same job as benches/pagers.rs, written as a user would with atlassian-python-api 5.x: read every member
of a group and every customer of a desk, page by page. Prints wall seconds, calls and errors as one JSON line.

Usage: python atlassian_python_pagers.py BASE_URL EMAIL TOKEN GROUP DESK_ID
"""

import json
import sys
import time

from atlassian import Jira, ServiceDesk


def main():
    base, email, token, group, desk = sys.argv[1:6]
    calls = 0
    errors = []
    started = time.monotonic()

    jira = Jira(url=base, username=email, password=token, cloud=True)
    members = []
    start = 0
    try:
        while True:
            page = jira.get_all_users_from_group(group, include_inactive_users=True, start=start, limit=50)
            calls += 1
            members.extend(page["values"])
            if page.get("isLast", not page["values"]):
                break
            start += len(page["values"])
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
        errors.append(f"group members: {e}")

    sd = ServiceDesk(url=base, username=email, password=token, cloud=True)
    customers = []
    start = 0
    try:
        while True:
            page = sd.get_customers(desk, start=start, limit=50)
            calls += 1
            customers.extend(page["values"])
            if page["isLastPage"]:
                break
            start += len(page["values"])
    except Exception as e:  # noqa: BLE001
        errors.append(f"desk customers: {e}")

    print(json.dumps({
        "wall_s": time.monotonic() - started,
        "calls": calls,
        "members": len(members),
        "customers": len(customers),
        "errors": errors,
    }))


if __name__ == "__main__":
    main()
