"""The forecast cache is shared by every worker process: the database by default, Redis when
DERMIS_CACHE_URL (or REDIS_URL) says so; and the forecast is read from it, not recomputed."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from dermis.web.clinic.outcomes import forecasting


def test_the_default_cache_is_the_database_table(load_settings):
    caches = load_settings(DERMIS_ENV="development")["CACHES"]
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert caches["default"]["LOCATION"] == "dermis_cache"


@pytest.mark.parametrize("name", ["DERMIS_CACHE_URL", "REDIS_URL"])
def test_a_redis_url_selects_redis(load_settings, name):
    url = "redis://cache.internal:6379/2"
    caches = load_settings(DERMIS_ENV="development", **{name: url})["CACHES"]
    assert caches["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
    }


def test_another_scheme_is_refused_naming_the_variable(load_settings):
    with pytest.raises(ImproperlyConfigured, match=r"^DERMIS_CACHE_URL"):
        load_settings(DERMIS_ENV="development", DERMIS_CACHE_URL="memcached://x:11211")


def test_a_forecast_is_stored_in_the_shared_table_and_read_back(world):
    from tests.web.test_recall_worklist import forecast_patient

    fiona, _ = forecast_patient(world, due_in=20)
    inputs = forecasting._inputs(fiona, forecasting.timezone.localdate())
    inputs["parameter_set"] = forecasting.active_parameters(fiona.clinic_id).version
    key = forecasting._key("forecast", inputs)
    stored = cache.get(key)  # a row of the dermis_cache table, readable by any process
    assert stored is not None and stored.forecast is not None
    assert forecasting.patient_forecast(fiona).below_noticeable_on == stored.below_noticeable_on
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM dermis_cache")
        assert cursor.fetchone()[0] >= 1
