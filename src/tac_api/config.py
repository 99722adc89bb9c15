"""Settings, read once from TAC_* environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tac_api.auth.schemas import Role

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _safe_jwks_url(url: str) -> bool:
    """Whoever can alter the key set can sign in as anyone: TLS, but for a local provider."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


class OidcIssuer(BaseModel):
    """One identity provider this service trusts: its tokens' issuer and audience, its keys, and
    how its claims say who the caller is (one entry of TAC_OIDC_ISSUERS; the TAC_OIDC_* settings
    make one too). The defaults are those of the TAC_OIDC_* settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=200)  # the `iss` its tokens carry, exactly
    audience: str = Field(min_length=1)
    jwks_url: str | None = None
    jwks_file: Path | None = None
    algorithms: list[str] = ["RS256", "ES256"]
    # The claim naming the caller's role: a string, or a list (groups, HMPPS Auth's
    # `authorities`) of which exactly one value maps to a role.
    role_claim: str = "tac_role"
    # The claim's values that are roles here, and which: {"ROLE_SAR_DATA_ACCESS":
    # "subject_access"}; values not named are ignored. None: its values are tac-api role names.
    roles: dict[str, Role] | None = None
    # None: this provider's tokens never carry a prison (or a local authority).
    prison_claim: str | None = "tac_prison_code"
    local_authority_claim: str | None = "tac_local_authority_code"
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_cache_seconds: int = Field(default=600, ge=0, le=86_400)
    max_lifetime_seconds: int = Field(default=5400, ge=60, le=86_400)

    @model_validator(mode="after")
    def _keys_and_algorithms(self) -> "OidcIssuer":
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"{self.issuer}: give exactly one of jwks_url, jwks_file")
        if self.jwks_url is not None and not _safe_jwks_url(self.jwks_url):
            raise ValueError(f"{self.issuer}: jwks_url must be https (http only on this machine)")
        refused = set(self.algorithms) - ASYMMETRIC_ALGORITHMS
        if refused or not self.algorithms:
            raise ValueError(
                f"{self.issuer}: algorithms: use some of {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
            )
        if self.roles is not None and not self.roles:
            raise ValueError(f"{self.issuer}: roles maps no claim value to a role")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAC_", extra="ignore")

    # `production` refuses the embedded SQLite default: production data lives in PostgreSQL, and the
    # database URL (which carries the only secret, its password) must be given explicitly.
    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/tac.db"
    # Per API process. One worker serves dozens of requests at once; a pool smaller than that makes
    # them queue for a connection, and overflow connections are opened and closed on every burst.
    database_pool_size: int = Field(default=30, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    # Seconds a request waits for a free connection before it is answered 503.
    database_pool_timeout: float = Field(default=30.0, gt=0)
    # Seconds to open a new database connection before giving up (the request answers 503): a
    # database that is down or unreachable must not hold requests until their clients give up.
    database_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    # Off: a new connection per request (for tests that run each request on its own event loop).
    database_pool: bool = True
    # Off: no prepared statement outlives its query (asyncpg's statement cache and SQLAlchemy's
    # both empty), for a transaction-pooling PgBouncer that cannot follow named statements from
    # one server connection to another (Debian's 1.18). Costs a parse and plan per query.
    database_statement_cache: bool = True
    # On SIGTERM a process takes no new requests and gives those in flight this many seconds to
    # finish before it closes their connections; then its background work stops (webhook leases
    # given back) and it exits 0.
    shutdown_grace_seconds: float = Field(default=30.0, gt=0, le=600)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The worker commands (`webhooks run`, `events consume`, `events publish`) serve no HTTP, so
    # their own figures (deliveries by result) would be nobody's: with a port set, each serves
    # them in Prometheus' format there (a port of its own, no token: counts only, never a
    # person). Unset: none. Loopback unless told (a container sets 0.0.0.0, never published).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # A sync batch: a thousand children, each with room for long notes.
    max_batch_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Requests per minute per client (a minute's worth may come at once); 0 turns limits off.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    # Browser origins allowed to call the API (CORS); none by default: clients are servers.
    cors_origins: list[str] = Field(default_factory=list)
    page_limit_default: int = Field(default=50, ge=1, le=200)
    page_limit_max: int = Field(default=200, ge=1, le=200)
    # Days a closed case is kept before `tac-api retention run` erases it (six years by default).
    retention_days: int = Field(default=2190, ge=1)
    # Days a local authority's link request waits for the prison side before `tac-api retention
    # run` erases it (and a decided one is kept, for the record, before it goes too).
    link_request_expiry_days: int = Field(default=30, ge=1, le=365)
    # Days a referral declined or found not eligible, with no record of hers behind it, is kept
    # after its decision before `tac-api retention run` erases it.
    referral_retention_days: int = Field(default=365, ge=1, le=3650)
    # The caseload guide per worker (Believe: 15 to 20 women per advocate): a worker with more
    # active women than the upper figure is flagged as over it; fewer than the lower, under it.
    caseload_guide_lower: int = Field(default=15, ge=0, le=500)
    caseload_guide_upper: int = Field(default=20, ge=1, le=500)
    # The worklist: a parenting assessment requested and not started within this many days.
    assessment_start_days: int = Field(default=28, ge=1, le=365)
    # Days the sending prison keeps a read-only summary of a case it transferred out.
    transfer_summary_days: int = Field(default=90, ge=1, le=3650)
    # A hearing or meeting the mother's side learnt of fewer days ahead than this is late notice.
    late_notice_days: int = Field(default=7, ge=1, le=365)
    # Reports suppress published counts from 1 to this (small numbers can point at a person).
    report_suppression_threshold: int = Field(default=4, ge=1, le=50)
    # A quarter is reported (and its figures fixed for good) once this many whole days have passed
    # after its last day (30 September's quarter from 15 October), its records in.
    report_settle_days: int = Field(default=14, ge=0, le=92)
    # The key of every report's perturbation (reports.disclosure): whoever holds it can take the
    # noise back out. Required in production; development uses a fixed key of its own.
    report_key: SecretStr | None = None
    # Hours a POST's Idempotency-Key lasts, from its first use; its stored answer (personal data)
    # is purged after that.
    idempotency_key_hours: int = Field(default=24, ge=1, le=24 * 7)
    # Seconds after which the claim of an attempt that never finished (its process died) may be
    # taken over by a retry. Safe however short: an attempt completes only if it still holds it.
    idempotency_lock_seconds: int = Field(default=60, ge=1, le=3600)
    sql_echo: bool = False
    # Webhooks: each API process delivers in the background unless this is off (then run
    # `tac-api webhooks run` instead, or both: processes never deliver the same event twice).
    webhook_dispatch: bool = True
    webhook_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Development and tests only: webhooks over plain http, to any port, and to addresses on this
    # machine or a private network.
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Attempts at one event before it is given up (the change feed still has it).
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    # The wait after the n-th failed attempt: base x 2^(n-1), capped, then jittered.
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # HMPPS domain events (`tac_api.events`): the estate's SNS topic and this service's SQS queue
    # (with its dead-letter queue). Off while unset. Credentials come from boto3's own chain (the
    # pod's IRSA role in the estate); a local endpoint (moto, LocalStack) gets dummy ones.
    aws_region: str = Field(default="eu-west-2", max_length=32)
    # Development and tests only: a local SQS and SNS (http://127.0.0.1:5000).
    aws_endpoint_url: str | None = Field(default=None, max_length=200)
    events_queue_url: str | None = Field(default=None, max_length=400)
    events_dead_letter_queue_url: str | None = Field(default=None, max_length=400)
    events_topic_arn: str | None = Field(default=None, max_length=400)
    # Each API process consumes prison events in the background too (`tac-api events consume`
    # does it on its own), and publishes the service's own (`tac-api events publish`).
    events_consume: bool = False
    events_publish: bool = False
    # Long polling: a receive waits up to this long for a message (SQS allows 0 to 20).
    events_wait_seconds: int = Field(default=20, ge=0, le=20)
    # A message is received this many times, failing each time, before SQS moves it to the
    # dead-letter queue: the queue's redrive policy (`tac-api events create-queues` sets it).
    events_max_receives: int = Field(default=5, ge=1, le=1000)
    # A message that failed is received again after this many seconds (its visibility timeout).
    events_retry_seconds: int = Field(default=30, ge=0, le=43_200)
    # A queue that cannot be reached (down, unknown, no access) is tried again after 1 s,
    # doubling up to this: the consumer keeps trying, and the API keeps serving meanwhile.
    events_reconnect_max_seconds: int = Field(default=60, ge=1, le=3600)
    # Where this service is reached from the estate: the `detailUrl` of the events it publishes.
    public_url: str = Field(default="http://127.0.0.1:8000", max_length=200)
    # The publisher looks for new events this often when it has found none (and backs off,
    # doubling up to five minutes, while the topic cannot be reached).
    events_publish_poll_seconds: float = Field(default=2.0, gt=0, le=3600)
    # Days the outbox keeps an event once it is published (then the publisher deletes it); an
    # event not yet published is never deleted.
    events_published_keep_days: int = Field(default=7, ge=1, le=365)
    # /health's view of the queue: each look is bounded by this many seconds, and what it saw
    # is shown again for as long.
    events_health_seconds: float = Field(default=2.0, gt=0, le=60)
    events_health_cache_seconds: float = Field(default=15.0, ge=0, le=3600)
    # /info: what the deployment says it is (set by the build: its id and the git commit).
    build_id: str | None = Field(default=None, max_length=100)
    git_commit: str | None = Field(default=None, max_length=64)

    # Identity: besides API keys, OIDC bearer tokens (JWTs) from an identity provider. Off while
    # no issuer is set. Keys come from the provider's JWKS URL or from a file, exactly one.
    oidc_issuer: str | None = Field(default=None, max_length=200)
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_file: Path | None = None
    # Comma-separated in the environment. Asymmetric only: a shared secret (HS*) or `none` would
    # let whoever knows the secret, or anyone, mint tokens.
    oidc_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    oidc_role_claim: str = "tac_role"
    oidc_prison_claim: str = "tac_prison_code"
    oidc_local_authority_claim: str = "tac_local_authority_code"
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)  # clock skew with the provider
    oidc_jwks_cache_seconds: int = Field(default=600, ge=0, le=86_400)
    # The longest a token may live (exp - iat). A stolen token works until it expires, so a token
    # minted to last a day is refused even though it verifies. Entra ID, which councils use,
    # issues tokens of 60 to 90 minutes.
    oidc_max_lifetime_seconds: int = Field(default=5400, ge=60, le=86_400)
    # More identity providers (a JSON list of OidcIssuer), trusted beside TAC_OIDC_ISSUER's: each
    # token is judged by the one its `iss` names. The estate's HMPPS Auth, for one.
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> "Settings":
        if not self.oidc_issuer:
            if self.oidc_audience or self.oidc_jwks_url or self.oidc_jwks_file:
                raise ValueError("TAC_OIDC_* settings need TAC_OIDC_ISSUER as well")
            return self
        if not self.oidc_audience:
            raise ValueError("TAC_OIDC_ISSUER needs TAC_OIDC_AUDIENCE")
        if (self.oidc_jwks_url is None) == (self.oidc_jwks_file is None):
            raise ValueError("TAC_OIDC_ISSUER needs exactly one of TAC_OIDC_JWKS_URL, _FILE")
        if self.oidc_jwks_url is not None and not _safe_jwks_url(self.oidc_jwks_url):
            raise ValueError("TAC_OIDC_JWKS_URL must be https (http only on this machine)")
        refused = set(self.oidc_algorithms) - ASYMMETRIC_ALGORITHMS
        if refused or not self.oidc_algorithms:
            raise ValueError(
                f"TAC_OIDC_ALGORITHMS: use some of {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
            )
        return self

    @model_validator(mode="after")
    def _issuers_once_each(self) -> "Settings":
        seen: set[str] = set()
        for trusted in self.trusted_issuers():
            if trusted.issuer in seen:
                raise ValueError(f"TAC_OIDC_ISSUERS: {trusted.issuer} is trusted twice")
            seen.add(trusted.issuer)
        return self

    def trusted_issuers(self) -> list[OidcIssuer]:
        """Every identity provider trusted: TAC_OIDC_ISSUER's (if set), then TAC_OIDC_ISSUERS."""
        if not self.oidc_issuer:
            return list(self.oidc_issuers)
        assert self.oidc_audience
        single = OidcIssuer(
            issuer=self.oidc_issuer,
            audience=self.oidc_audience,
            jwks_url=self.oidc_jwks_url,
            jwks_file=self.oidc_jwks_file,
            algorithms=self.oidc_algorithms,
            role_claim=self.oidc_role_claim,
            prison_claim=self.oidc_prison_claim,
            local_authority_claim=self.oidc_local_authority_claim,
            leeway_seconds=self.oidc_leeway_seconds,
            jwks_cache_seconds=self.oidc_jwks_cache_seconds,
            max_lifetime_seconds=self.oidc_max_lifetime_seconds,
        )
        return [single, *self.oidc_issuers]

    @model_validator(mode="after")
    def _production_needs_postgres(self) -> "Settings":
        if self.environment == "production" and not self.database_url.startswith("postgres"):
            raise ValueError("TAC_ENVIRONMENT=production needs TAC_DATABASE_URL set to PostgreSQL")
        if self.environment == "production" and (
            self.report_key is None or len(self.report_key.get_secret_value()) < 32
        ):
            raise ValueError(
                "TAC_ENVIRONMENT=production needs TAC_REPORT_KEY: at least 32 random characters"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
