"""Validated scalar types of the profile language, written once as Annotated types.

Each type accepts the text a user writes (`8Gi`, `30m`, `"1.33"`) and keeps it as written;
the parse functions turn it into numbers for expansion.
"""

from __future__ import annotations

import re
from typing import Annotated

from dsenv.profile.fields import Scalar, describe

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_QUANTITY_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
_CPU_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m)?$")
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION_RE = re.compile(r"^\d+(\.\d+){1,2}$")
# AWS tags: a key of 1-128 and a value of 0-256 Unicode letters, digits, spaces and
# `_ . : / = + - @` (Tagging AWS resources, "Tag naming limits and requirements").
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_KEY_RE = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE_RE = re.compile(r"^[\w.:/=+\-@ ]*$")
# An e-mail address as people write them (RFC 5321 caps the address at 254 characters):
# a local part without spaces or '@', and a domain of DNS labels with a dot.
EMAIL_MAX = 254
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def parse_bytes(text: str) -> int:
    """`8Gi` -> 8589934592. Raises ValueError with a user-facing message."""
    m = _QUANTITY_RE.match(text)
    if not m:
        raise ValueError(
            f"{text!r} is not a storage quantity; write a number with a unit such as 512Mi, 8Gi or 1Ti"
        )
    number, unit = m.groups()
    factor = _BINARY.get(unit or "", _DECIMAL.get(unit or "", 1))
    return int(float(number) * factor)


def parse_millicpu(value: str | int | float) -> int:
    """`2` -> 2000, `500m` -> 500."""
    if isinstance(value, bool):
        raise ValueError("a CPU count must be a number such as 2 or 500m, not a boolean")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("a CPU count must be greater than zero")
        return round(value * 1000)
    m = _CPU_RE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a CPU quantity; write a number such as 2, 0.5 or 500m")
    number, milli = m.groups()
    result = int(float(number)) if milli else round(float(number) * 1000)
    if result <= 0:
        raise ValueError("a CPU count must be greater than zero")
    return result


def parse_seconds(text: str) -> int:
    """`1h30m` -> 5400, `7d` -> 604800."""
    m = _DURATION_RE.match(text)
    if not text or not m or not any(m.groups()):
        raise ValueError(
            f"{text!r} is not a duration; write a number with a unit: 90s, 30m, 1h, 7d or 1h30m"
        )
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _string(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what} as a string, got {describe(value)}")
    return value


def _check_quantity(value: object) -> str:
    text = _string(value, "a storage quantity such as 8Gi")
    if parse_bytes(text) <= 0:
        raise ValueError("a storage quantity must be greater than zero")
    return text


def _check_duration(value: object) -> str:
    text = _string(value, "a duration such as 30m")
    parse_seconds(text)
    return text


def _check_cpu(value: object) -> str | int | float:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"expected a CPU count such as 2 or 500m, got {describe(value)}")
    parse_millicpu(value)
    return value


def _check_dns_label(value: object) -> str:
    text = _string(value, "a name")
    if len(text) > 63 or not _DNS_LABEL_RE.match(text):
        raise ValueError(
            f"{text!r} is not a valid name: use at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit (DNS-1123 label)"
        )
    return text


def _check_version(value: object) -> str:
    # YAML reads `1.30` as the number 1.3: refuse it rather than guess what the user meant.
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValueError(
            f"a version must be quoted: {value!r} is read as a number; write it as a quoted "
            'string with the digits you meant, for example "1.30"'
        )
    text = _string(value, 'a quoted version such as "1.33"')
    if not _VERSION_RE.match(text):
        raise ValueError(f'{text!r} is not a version; write it like "1.33" or "3.12"')
    return text


def _check_tag_key(value: object) -> str:
    text = _string(value, "a tag key")
    if len(text) > TAG_KEY_MAX:
        raise ValueError(
            f"a tag key may have at most {TAG_KEY_MAX} characters (AWS), this one has {len(text)}"
        )
    if not _TAG_KEY_RE.match(text):
        raise ValueError(
            f"{_short(text)} is not a valid tag key: use letters, digits, spaces and _ . : / = + - @"
        )
    if text.lower().startswith("aws:"):
        raise ValueError(f"{_short(text)} is not a valid tag key: the aws: prefix is AWS's own")
    return text


def _check_tag_value(value: object) -> str:
    text = _string(value, "a tag value")
    if len(text) > TAG_VALUE_MAX:
        raise ValueError(
            f"a tag value may have at most {TAG_VALUE_MAX} characters (AWS), this one has {len(text)}"
        )
    if not _TAG_VALUE_RE.match(text):
        raise ValueError(
            f"{_short(text)} is not a valid tag value: use letters, digits, spaces and _ . : / = + - @"
        )
    return text


def _check_email(value: object) -> str:
    text = _string(value, "an e-mail address")
    if len(text) > EMAIL_MAX or not _EMAIL_RE.match(text):
        raise ValueError(f"{_short(text)} is not an e-mail address such as alice@acme.example")
    return text


def _short(text: str, limit: int = 60) -> str:
    """`text` quoted for a message, cut to `limit` characters: a 900 KB value is not echoed."""
    return (
        repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"
    )


Quantity = Annotated[
    str,
    Scalar(
        _check_quantity,
        {
            "type": "string",
            "pattern": _QUANTITY_RE.pattern,
            "description": "A Kubernetes storage quantity such as 512Mi, 8Gi or 1Ti.",
        },
    ),
]
CpuQuantity = Annotated[
    str | int | float,
    Scalar(
        _check_cpu,
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": _CPU_RE.pattern},
            ],
            "description": "CPU cores: a number such as 2 or 0.5, or millicores such as 500m.",
        },
    ),
]
Duration = Annotated[
    str,
    Scalar(
        _check_duration,
        {
            "type": "string",
            "pattern": r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$",
            "description": "A duration: 90s, 30m, 1h, 7d, or combined as 1h30m.",
        },
    ),
]
Name = Annotated[
    str,
    Scalar(
        _check_dns_label,
        {
            "type": "string",
            "pattern": _DNS_LABEL_RE.pattern,
            "maxLength": 63,
            "description": "A DNS-1123 label: lower-case letters, digits and '-', at most 63.",
        },
    ),
]
Version = Annotated[
    str,
    Scalar(
        _check_version,
        {
            "type": "string",
            "pattern": _VERSION_RE.pattern,
            "description": 'A version, always quoted: "1.33", "3.12".',
        },
    ),
]
TagKey = Annotated[
    str,
    Scalar(
        _check_tag_key,
        {"type": "string", "pattern": _TAG_KEY_RE.pattern, "maxLength": TAG_KEY_MAX},
    ),
]
TagValue = Annotated[
    str,
    Scalar(
        _check_tag_value,
        {"type": "string", "pattern": _TAG_VALUE_RE.pattern, "maxLength": TAG_VALUE_MAX},
    ),
]
Email = Annotated[
    str,
    Scalar(
        _check_email,
        {
            "type": "string",
            "format": "email",
            "pattern": _EMAIL_RE.pattern,
            "maxLength": EMAIL_MAX,
            "description": "An e-mail address, such as alice@acme.example.",
        },
    ),
]


# ---- Kubernetes placement, images and storage (target kubernetes) -----------------------------

# Label keys and values as the API server checks them (apimachinery `validation.IsQualifiedName`
# and `IsValidLabelValue`): a key is an optional DNS-subdomain prefix and '/', then a name of at
# most 63 characters; a value is empty or such a name.
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_NAME_RE = re.compile(f"^{_LABEL_NAME}$")
DNS_SUBDOMAIN_RE = re.compile(f"^{_DNS_SUBDOMAIN}$")
_LABEL_KEY_PATTERN = f"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$"
_LABEL_VALUE_PATTERN = f"^({_LABEL_NAME})?$"


def _check_label_key(value: object) -> str:
    text = _string(value, "a label key such as nvidia.com/gpu.product")
    prefix, slash, name = text.rpartition("/")
    ok = (
        0 < len(name) <= 63
        and _LABEL_NAME_RE.match(name) is not None
        and (not slash or (0 < len(prefix) <= 253 and DNS_SUBDOMAIN_RE.match(prefix) is not None))
    )
    if not ok:
        raise ValueError(
            f"{text!r} is not a Kubernetes label key: an optional DNS prefix and '/', then at "
            "most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or "
            "digit (such as node.acme.example/pool)"
        )
    return text


def _check_label_value(value: object) -> str:
    if isinstance(value, bool | int | float):
        raise ValueError(
            f"expected a label value as a string, got {describe(value)}: quote it, for example "
            f'"{str(value).lower() if isinstance(value, bool) else value}"'
        )
    text = _string(value, "a label value")
    if len(text) > 63 or (text and not _LABEL_NAME_RE.match(text)):
        raise ValueError(
            f"{text!r} is not a Kubernetes label value: at most 63 letters, digits, '-', '_' "
            "or '.', starting and ending with a letter or digit"
        )
    return text


LabelKey = Annotated[
    str,
    Scalar(
        _check_label_key,
        {
            "type": "string",
            "pattern": _LABEL_KEY_PATTERN,
            "description": "A Kubernetes label key such as nvidia.com/gpu.product.",
        },
    ),
]
LabelValue = Annotated[
    str,
    Scalar(
        _check_label_value,
        {"type": "string", "pattern": _LABEL_VALUE_PATTERN, "maxLength": 63},
    ),
]


def _check_dns_subdomain(value: object) -> str:
    text = _string(value, "a name")
    if len(text) > 253 or not DNS_SUBDOMAIN_RE.match(text):
        raise ValueError(
            f"{text!r} is not a valid object name: lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 (DNS-1123 subdomain), "
            "such as standard or fast-ssd"
        )
    return text


#: A StorageClass (or other object) name: the API server requires a DNS-1123 subdomain.
ObjectName = Annotated[
    str,
    Scalar(
        _check_dns_subdomain,
        {"type": "string", "pattern": f"^{_DNS_SUBDOMAIN}$", "maxLength": 253},
    ),
]

# An OCI registry reference: `host[:port][/path]`, the grammar of the name part of an image
# reference (distribution `reference/regexp.go`: domain, port and path components). The host
# must read as one (a '.' or ':' in it, or `localhost`), as `reference/normalize.go`
# `splitDockerDomain` decides; otherwise `acme/team` would mean Docker Hub's `docker.io/acme/team`.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REGISTRY_PATTERN = (
    rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
    rf"(?:/{_PATH_COMPONENT})*$"
)
_REGISTRY_RE = re.compile(_REGISTRY_PATTERN)


def registry_host(reference: str) -> str:
    """`harbor.lab.example:8443/data` -> `harbor.lab.example:8443`."""
    return reference.split("/", 1)[0]


def is_qualified(image: str) -> bool:
    """An image reference that names its registry (`ghcr.io/acme/x:1`), as opposed to a
    Docker Hub short name (`jupyter/scipy-notebook:1`)."""
    first, slash, _ = image.partition("/")
    return bool(slash) and (any(c in first for c in ".:") or first == "localhost")


def _check_registry(value: object) -> str:
    text = _string(value, "a registry such as ghcr.io/acme")
    hint = (
        "write host[:port][/path] with no scheme, tag or digest, such as ghcr.io/acme, "
        "harbor.lab.example/data or 123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    )
    if "://" in text:
        raise ValueError(f"{text!r} is not a registry reference (no scheme): {hint}")
    if "@" in text or ("/" in text and ":" in text.rsplit("/", 1)[1]):
        raise ValueError(
            f"{text!r} is an image reference with a tag or digest, not a registry: {hint}"
        )
    if len(text) > 255 or not _REGISTRY_RE.match(text) or not is_qualified(text + "/x"):
        raise ValueError(f"{text!r} is not a registry reference: {hint}")
    return text


Registry = Annotated[
    str,
    Scalar(
        _check_registry,
        {
            "type": "string",
            "pattern": _REGISTRY_PATTERN,
            "maxLength": 255,
            "description": "An OCI registry: host[:port][/path], such as ghcr.io/acme.",
        },
    ),
]

_ENDPOINT_RE = re.compile(
    rf"^https?://{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]{{1,5}})?/?$"
)


def _check_endpoint(value: object) -> str:
    text = _string(value, "an S3 endpoint URL such as https://s3.lab.example")
    if not _ENDPOINT_RE.match(text):
        raise ValueError(
            f"{text!r} is not an S3 endpoint: write http(s)://host[:port] with no path, such "
            "as https://s3.lab.example or http://minio.storage.svc.cluster.local:9000"
        )
    return text.rstrip("/")


EndpointUrl = Annotated[
    str,
    Scalar(_check_endpoint, {"type": "string", "format": "uri", "pattern": _ENDPOINT_RE.pattern}),
]
