"""A project's internal and test users: who they are, checked once, matched in SQL and in Python.

A person is internal when any rule matches:

- an e-mail domain: the domain of the person's `email` property (after the last
  "@", case-insensitive) is the domain or one of its subdomains;
- a distinct id: one of the person's distinct ids is listed;
- a person property: the property, as text (`->>`: strings as they are,
  numbers and booleans as JSON writes them), equals the value;
- an IP address or network: one of the person's sessions came from it. Addresses
  are not kept (unless the project stores them), so ingestion records on the
  session which listed network it matched; a network applies to sessions that
  arrive after it is listed, and removing it stops excluding them.

`internal_persons_sql` and `person_is_internal` are the two forms of one rule; a
test holds them to the same answers.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_RULES = 200
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
FIELDS = ("email_domains", "distinct_ids", "ips", "person_properties")


class InternalRulesError(ValueError):
    """Invalid rules; `errors` maps each field (`ips`, `person_properties`…) to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))


@dataclass(frozen=True)
class InternalRules:
    email_domains: tuple[str, ...] = ()
    distinct_ids: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # normalised: "10.0.0.0/8", "203.0.113.7/32"
    person_properties: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.email_domains or self.distinct_ids or self.networks or self.person_properties)

    def to_json(self) -> dict:
        return {
            "email_domains": list(self.email_domains),
            "distinct_ids": list(self.distinct_ids),
            "ips": list(self.networks),
            "person_properties": [{"key": k, "value": v} for k, v in self.person_properties],
        }

    @classmethod
    def from_json(cls, data: Any) -> InternalRules:
        """Rules as stored on the project (checked when they were saved); anything malformed is skipped."""
        if not isinstance(data, dict):
            return cls()
        pairs = tuple(
            (str(p["key"]), str(p["value"]))
            for p in data.get("person_properties") or ()
            if isinstance(p, dict) and "key" in p and "value" in p
        )
        return cls(
            email_domains=tuple(str(d) for d in data.get("email_domains") or ()),
            distinct_ids=tuple(str(d) for d in data.get("distinct_ids") or ()),
            networks=tuple(str(n) for n in data.get("ips") or ()),
            person_properties=pairs,
        )

    def network_for(self, ip: str | None) -> str:
        """The listed network an address belongs to, or '' (what ingestion records on the session)."""
        if not ip or not self.networks:
            return ""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        for network in self.networks:
            try:
                if address in ipaddress.ip_network(network):
                    return network
            except ValueError:
                continue
        return ""


def internal_rules_clean(data: Any) -> InternalRules:
    """Check rules sent as `{"email_domains": [...], "distinct_ids": [...], "ips": [...],
    "person_properties": [{"key", "value"}]}`; raise InternalRulesError naming each bad entry."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if data in (None, ""):
        data = {}
    if not isinstance(data, dict):
        raise InternalRulesError({"non_field_errors": ["send an object with " + ", ".join(FIELDS)]})
    for key in sorted(set(data) - set(FIELDS)):
        error(key, f"unknown field; use {', '.join(FIELDS)}")

    def items(field: str) -> list:
        value = data.get(field) or []
        if not isinstance(value, list):
            error(field, "must be a list")
            return []
        if len(value) > MAX_RULES:
            error(field, f"at most {MAX_RULES} entries")
            return []
        return value

    domains: list[str] = []
    for i, raw in enumerate(items("email_domains")):
        domain = raw.strip().lower().lstrip("@") if isinstance(raw, str) else ""
        if not _DOMAIN.match(domain):
            error(f"email_domains[{i}]", f"{str(raw)[:60]!r} is not a domain like example.com")
        elif domain not in domains:
            domains.append(domain)
    ids: list[str] = []
    for i, raw in enumerate(items("distinct_ids")):
        if not isinstance(raw, str) or not raw.strip():
            error(f"distinct_ids[{i}]", "must be a non-empty string")
        elif len(raw.strip()) > 200 or "\x00" in raw:
            error(f"distinct_ids[{i}]", "must be at most 200 characters, without NUL")
        elif raw.strip() not in ids:
            ids.append(raw.strip())
    networks: list[str] = []
    for i, raw in enumerate(items("ips")):
        try:
            network = str(ipaddress.ip_network(raw.strip(), strict=False)) if isinstance(raw, str) else None
        except ValueError:
            network = None
        if network is None:
            error(f"ips[{i}]", f"{str(raw)[:60]!r} is not an IP address or network like 203.0.113.0/24")
        elif network not in networks:
            networks.append(network)
    pairs: list[tuple[str, str]] = []
    for i, raw in enumerate(items("person_properties")):
        if not isinstance(raw, dict) or set(raw) != {"key", "value"}:
            error(f"person_properties[{i}]", "must be an object with key and value")
            continue
        key, value = raw["key"], raw["value"]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = json.dumps(value)
        if not isinstance(key, str) or not key.strip() or len(key) > 200 or "\x00" in key:
            error(f"person_properties[{i}].key", "must be a property name of at most 200 characters")
        elif not isinstance(value, str) or len(value) > 500 or "\x00" in value:
            error(f"person_properties[{i}].value", "must be a text of at most 500 characters")
        elif (key.strip(), value) not in pairs:
            pairs.append((key.strip(), value))
    if errors:
        raise InternalRulesError(errors)
    return InternalRules(tuple(domains), tuple(ids), tuple(networks), tuple(pairs))


# -- matching ---------------------------------------------------------------------------------

_EMAIL_DOMAIN_SQL = "substring(lower(p.properties ->> 'email') from '@([^@]*)$')"


def internal_persons_sql(rules: InternalRules, *, project_id: int) -> tuple[str, list] | None:
    """`SELECT person_id` of the project's internal persons, or None when it has no rules."""
    if rules.empty:
        return None
    parts: list[str] = []
    params: list = []
    if rules.distinct_ids:
        # distinct_id_project_unique (project_id, distinct_id)
        parts.append(
            "SELECT pd.person_id FROM tracking_persondistinctid pd"
            " WHERE pd.project_id = %s AND pd.distinct_id = ANY(%s::text[])"
        )
        params += [project_id, list(rules.distinct_ids)]
    if rules.networks:
        # session_internal_network (project_id, internal_network) WHERE internal_network <> ''
        parts.append(
            "SELECT s.person_id FROM tracking_session s"
            " WHERE s.project_id = %s AND s.internal_network <> '' AND s.internal_network = ANY(%s::text[])"
        )
        params += [project_id, list(rules.networks)]
    conditions: list[str] = []
    person_params: list = [project_id]
    if rules.email_domains:
        conditions.append(
            "EXISTS (SELECT 1 FROM unnest(%s::text[]) AS d(v)"  # noqa: S608 - constant SQL
            f" WHERE {_EMAIL_DOMAIN_SQL} = d.v OR right({_EMAIL_DOMAIN_SQL}, length(d.v) + 1) = '.' || d.v)"
        )
        person_params.append(list(rules.email_domains))
    for key, value in rules.person_properties:
        conditions.append("p.properties ->> %s = %s")
        person_params += [key, value]
    if conditions:
        # the project's persons (person_project_last_seen leads with project_id)
        parts.append(
            f"SELECT p.id FROM tracking_person p WHERE p.project_id = %s AND ({' OR '.join(conditions)})"  # noqa: S608 - constant SQL, values as %s parameters
        )
        params += person_params
    return " UNION ".join(parts), params


def _as_text(value: Any) -> str | None:
    """A JSON value as PostgreSQL's `->>` gives it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _email_domain(properties: dict) -> str | None:
    email = _as_text(properties.get("email"))
    if email is None or "@" not in email:
        return None
    return email.lower().rsplit("@", 1)[1]


def person_is_internal(
    rules: InternalRules, *, properties: dict, distinct_ids: list[str], session_networks: list[str]
) -> bool:
    """The Python form of `internal_persons_sql` for one person."""
    if set(distinct_ids) & set(rules.distinct_ids):
        return True
    if set(n for n in session_networks if n) & set(rules.networks):
        return True
    domain = _email_domain(properties)
    if domain is not None and any(domain == d or domain.endswith("." + d) for d in rules.email_domains):
        return True
    return any(_as_text(properties.get(key)) == value for key, value in rules.person_properties)
