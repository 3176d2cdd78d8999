"""`/dts-migrate` inline texts: one builder over the sandbox's default MySQL pair, and the named variants."""

from __future__ import annotations

DEFAULT_FIELDS = {
    "source_account": "shop-prod", "source_region": "ap-guangzhou", "source_instance": "cdb-src00001",
    "target_account": "analytics", "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001",
    "db_type": "mysql",
}


def inline(**fields: str) -> str:
    """The inline request text; `fields` replace default fields or add optional ones (`role_name=...`)."""
    return " ".join(f"{name}={value}" for name, value in {**DEFAULT_FIELDS, **fields}.items())


INLINE = inline()
"""shop-prod `cdb-src00001` → analytics `cdb-dst00001`, MySQL: the request most tests open."""

SECOND_PAIR = inline(source_instance="cdb-src00002", target_instance="cdb-dst00002", db_type="percona")
"""The sandbox's second pair (Percona), from the same source account: a second request that runs alongside. Percona
is outside the guide's cross-account scope: settings must list it in `dts.experimental_engines`."""
