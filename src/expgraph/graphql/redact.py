"""Secrets: how they are recognised, redacted from what is stored or logged, and
kept out of stored configuration.

The rule (also in the README, "Secrets in free-form data"):

1. **By name.** A key's name is split into lowercase words at ``-``, ``_``,
   ``.``, spaces, digits and camelCase boundaries (``apiKey``, ``API_KEY`` and
   ``x-api-key`` all hold the word ``key``). The name is secret when one of its
   words is a secret word (``SECRET_WORDS``: key, keys, secret, token,
   password, passwd, pwd, passphrase, credential(s), creds, auth,
   authorization, signature, cookie(s), session, bearer, jwt, otp, totp, salt,
   private key...), when a word contains a compound secret (``apikey``,
   ``accesstoken``, ``privatekey``, ``password``, ``secret``, ``credential``...),
   when two words make a secret phrase (``backup code``, ``recovery code``,
   ``verification code``, ``private key``, ``provisioning uri``), or when the
   whole name is ``code`` (a one-time code), **unless** its last word says it
   names or counts something rather than holding it (``HARMLESS_LAST``: id,
   ids, count, limit, max, min, size, length, type, kind, name, prefix, ttl,
   expires, timeout, url...; so ``key_id``, ``session_id``, ``token_limit``,
   ``auth_type`` are harmless). ``tokens`` (plural) is not a secret word: it is
   how model parameters count tokens (``max_tokens``, ``prompt_tokens``).
2. **By value.** Whatever its key, a string is secret when it looks like a
   credential (``looks_secret``): a known key prefix (``sk-``, ``exk_``,
   ``ghp_``, ``github_pat_``, ``xox?-``, ``AKIA``, ``AIza``...), an HTTP
   ``Bearer``/``Basic`` credential, a PEM block (``-----BEGIN ...``), a JWT, a
   URL with a password (``scheme://user:password@host``), or a long
   high-entropy token (32+ characters of letters, digits and ``-_+/=``, with
   upper case, lower case and digits, and more than 4.2 bits of entropy per
   character, so hex digests and UUIDs are not taken for secrets).

Where it applies:

- the audit trail and request logs store inputs with secret values replaced by
  ``[REDACTED]`` (``redact``; booleans, numbers and nulls under a secret name
  are kept: they are settings about a secret, not the secret);
- configuration stored where any reader sees it (task and evaluator configs,
  prompt versions' invocation parameters) refuses secrets (``refuse_secrets``):
  BAD_REQUEST naming the path. Credentials belong in a custom provider, whose
  ``credentials`` are encrypted with ``EXPGRAPH_ENCRYPTION_KEY`` and never
  returned; a config names the provider by id.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from expgraph.graphql.errors import BadRequest

REDACTED = "[REDACTED]"

SECRET_WORDS = frozenset(
    {
        "key",
        "keys",
        "apikey",
        "apikeys",
        "secret",
        "secrets",
        "token",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "creds",
        "auth",
        "authorization",
        "signature",
        "cookie",
        "cookies",
        "session",
        "bearer",
        "jwt",
        "otp",
        "totp",
        "hotp",
        "salt",
        "pin",
    }
)
"""A name holding one of these words is secret (unless its last word is harmless)."""

SECRET_FRAGMENTS = (
    "password",
    "passwd",
    "secret",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "accesstoken",
    "authtoken",
    "refreshtoken",
    "idtoken",
    "sessiontoken",
    "bearertoken",
)
"""Compound words written without separators (``apikey``, ``clientsecret``)."""

SECRET_NAMES = frozenset({"code", "codes", "otpcode"})
"""Whole names that are secret although their word alone is not (a one-time ``code``)."""

SECRET_PHRASES = (
    ("verification", "code"),
    ("mfa", "code"),
    ("backup", "code"),
    ("backup", "codes"),
    ("recovery", "code"),
    ("recovery", "codes"),
    ("private", "key"),
    ("provisioning", "uri"),
)

HARMLESS_LAST = frozenset(
    {
        "id",
        "ids",
        "count",
        "counts",
        "limit",
        "limits",
        "max",
        "min",
        "size",
        "length",
        "type",
        "types",
        "kind",
        "name",
        "names",
        "prefix",
        "ttl",
        "expires",
        "expiry",
        "expiration",
        "timeout",
        "url",
        "uri",
        "endpoint",
        "header",
        "enabled",
        "required",
        "scopes",
        "scope",
        "version",
        "format",
    }
)
"""A name ending in one of these names or counts a secret rather than holding it."""

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """A key's name as lowercase words (``apiKey`` -> ``("api", "key")``)."""
    return tuple(w.lower() for w in _WORDS.findall(name))


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a key of this name holds a secret (rule 1 of the module docstring)."""
    parts = words(name)
    if not parts:
        return False
    if "".join(parts) in SECRET_NAMES or tuple(parts[-2:]) in SECRET_PHRASES:
        return True
    if parts[-1] in HARMLESS_LAST:
        return False  # key_id, session_id, token_limit, auth_type
    return (
        any(w in SECRET_WORDS for w in parts)
        or any(f in w for w in parts for f in SECRET_FRAGMENTS)
        or any(pair in SECRET_PHRASES for pair in itertools.pairwise(parts))
    )


_SECRET_VALUE = re.compile(
    r"""^\s*(?:
        (?:sk|pk|rk)-[A-Za-z0-9_-]{8,}          # OpenAI, Anthropic (sk-ant-...), Stripe-like
      | sk_(?:live|test)_[A-Za-z0-9]{8,}
      | exk_[A-Za-z0-9_-]{8,}                    # expgraph API keys
      | gh[pousr]_[A-Za-z0-9]{20,} | github_pat_[A-Za-z0-9_]{20,}
      | glpat-[A-Za-z0-9_-]{16,}
      | xox[abposr]-[A-Za-z0-9-]{10,}            # Slack
      | (?:AKIA|ASIA)[0-9A-Z]{16}                # AWS access key id
      | AIza[0-9A-Za-z_-]{30,}                   # Google API key
      | hf_[A-Za-z0-9]{20,}                      # Hugging Face
      | (?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*   # JWT
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*-----")
_URL_PASSWORD = re.compile(
    r"[a-z][a-z0-9+.-]{0,30}://[^/\s:@]{0,200}:[^/\s@]{1,200}@", re.IGNORECASE
)
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{32,}")


def _entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _is_global_id(token: str) -> bool:
    """Relay ids (base64 of ``Type:pk``) are long and random-looking, not secret."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        return False
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*:[0-9]+", raw) is not None


def looks_secret(value: str) -> bool:
    """Whether a string looks like a credential, whatever its key (rule 2)."""
    if len(value) < 8:
        return False
    if _SECRET_VALUE.match(value):
        return True
    if "-----BEGIN" in value and _PEM.search(value):
        return True
    if "://" in value and _URL_PASSWORD.search(value):
        return True
    for token in _TOKEN.findall(value):
        if (
            any(c.isdigit() for c in token)
            and any(c.islower() for c in token)
            and any(c.isupper() for c in token)
            and _entropy(token) > 4.2
            and not _is_global_id(token)
        ):
            return True
    return False


def _holds_secret(value: Any) -> bool:
    """Whether a value under a secret name is worth hiding (a setting like
    ``use_auth: true`` or ``key_length: 32`` is not)."""
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, dict | list | tuple):
        return bool(value)
    return False


def redact(value: Any) -> Any:
    """A copy of ``value`` with its secrets (by name or by value) replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and is_secret_name(k) and _holds_secret(v)
            else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and looks_secret(value):
        return REDACTED
    return value


def find_secret(value: Any, path: str) -> str | None:
    """The path of the first secret in ``value`` (by name or by value), or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}"
            if isinstance(k, str) and is_secret_name(k) and _holds_secret(v):
                return where
            found = find_secret(v, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = find_secret(v, f"{path}[{i}]")
            if found is not None:
                return found
    elif isinstance(value, str) and looks_secret(value):
        return path
    return None


def refuse_secrets(value: Any, field: str) -> None:
    """BAD_REQUEST when configuration about to be stored holds a secret."""
    where = find_secret(value, field)
    if where is not None:
        raise BadRequest(
            f"{where} looks like a credential: configuration is readable by every "
            "reader of the experiment, so secrets are refused here. Store credentials "
            "in a custom provider (createCustomProvider: they are encrypted and never "
            "returned) and reference it with customProviderId",
            field=field,
            path=where,
        )


# `password: "..."` style arguments inside a GraphQL document.
_INLINE = re.compile(r'(\b([A-Za-z_][A-Za-z0-9_]*)\s*:\s*)"((?:[^"\\]|\\.)*)"')


def redact_document(query: str) -> str:
    """A GraphQL document with string literals of secret-looking arguments (or
    secret-looking strings) replaced."""

    def replace(match: re.Match[str]) -> str:
        if is_secret_name(match.group(2)) or looks_secret(match.group(3)):
            return f'{match.group(1)}"{REDACTED}"'
        return match.group(0)

    return _INLINE.sub(replace, query)


def secret_variables(query: str) -> set[str]:
    """Names of the variables a document passes into secret-looking arguments or
    input fields (``login(input: {password: $p})`` -> ``{"p"}``)."""
    from graphql import ArgumentNode, ObjectFieldNode, VariableNode, parse, visit
    from graphql.language import Visitor

    found: set[str] = set()

    class Collect(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            self._check(node.name.value, node.value)

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            self._check(node.name.value, node.value)

        def _check(self, name: str, value: Any) -> None:
            if is_secret_name(name) and isinstance(value, VariableNode):
                found.add(value.name.value)

    try:
        visit(parse(query), Collect())
    except Exception:  # an unparsable document: redact nothing more, it never ran
        return found
    return found


def redact_request(body: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL request body with its secrets replaced: in literals, in variables
    named like secrets, and in variables passed into secret-looking fields."""
    query = body.get("query")
    variables = body.get("variables")
    result = dict(body)
    if isinstance(query, str):
        result["query"] = redact_document(query)
        if isinstance(variables, dict):
            hidden = secret_variables(query)
            variables = {k: REDACTED if k in hidden else v for k, v in variables.items()}
    if isinstance(variables, dict):
        result["variables"] = redact(variables)
    return redact(result)
