"""Changelists of tables that grow without bound (messages, callbacks, contacts) at a cost that does not.

Django's changelist reads the whole (filtered) table twice per page: the
paginator's ``COUNT(*)``, and the date hierarchy's ``SELECT DISTINCT
date_trunc(...)`` (every row read and sorted to find the years, months or days
that hold any). At 100,000 messages those two were most of the page's time and
they grow with every campaign (bench/RESULTS.md, "Session 7").

- :class:`CappedCountPaginator` counts at most :attr:`~CappedCountPaginator.limit`
  rows; past it the page says "more than 10,000" and offers that many pages
  (the newest first: filters, search and the dates narrow the list to the rest).
- :func:`with_skip_scan_dates` gives a queryset whose ``datetimes()`` (what the
  date hierarchy calls) finds each year, month or day that holds a row with one
  index lookup per period, on PostgreSQL: one recursive query, the periods as
  Django would list them. Elsewhere, and for what it does not cover, Django's own.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.conf import settings
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import DateTimeField, F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

#: The periods the date hierarchy lists, and how far the next one starts.
_PERIODS = {"year": "1 year", "month": "1 month", "day": "1 day"}


class CappedCountPaginator(Paginator):
    """A paginator that counts no further than ``limit`` rows (``capped`` says it stopped there)."""

    limit = 10_000
    capped = False

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if not isinstance(object_list, QuerySet):
            return super().count
        counted = object_list.order_by().values("pk")[: self.limit + 1].count()
        self.capped = counted > self.limit
        return min(counted, self.limit)


class SkipScanDatesQuerySet(QuerySet[Any]):
    """``datetimes()`` by one index lookup per period found (a "loose index scan"), on PostgreSQL."""

    def datetimes(self, field_name: str, kind: Any, order: Any = "ASC", tzinfo: Any = None) -> Any:
        zone = tzinfo or timezone.get_current_timezone()
        zone_name = _zone_name(zone)
        if zone_name is None or not self._skip_scan_applies(field_name, kind, order):
            return super().datetimes(field_name, kind, order, tzinfo)
        inner = self.order_by().annotate(hierarchy_value=F(field_name)).values_list("hierarchy_value")
        inner = inner.filter(hierarchy_value__isnull=False)
        inner_sql, inner_params = inner.query.sql_with_params()
        # The inner query is Django's own, compiled; the rest binds its values.
        sql = (
            "WITH RECURSIVE hierarchy(v) AS ("  # noqa: S608
            f"(SELECT x.hierarchy_value FROM ({inner_sql}) AS x ORDER BY 1 LIMIT 1) "
            "UNION ALL "
            f"SELECT (SELECT x.hierarchy_value FROM ({inner_sql}) AS x "
            "WHERE x.hierarchy_value >= ((date_trunc(%s, h.v AT TIME ZONE %s) + %s::interval) AT TIME ZONE %s) "
            "ORDER BY 1 LIMIT 1) FROM hierarchy AS h WHERE h.v IS NOT NULL"
            ") SELECT date_trunc(%s, v AT TIME ZONE %s) FROM hierarchy WHERE v IS NOT NULL"
        )
        params = [
            *inner_params,
            *inner_params,
            kind,
            zone_name,
            _PERIODS[kind],
            zone_name,
            kind,
            zone_name,
        ]
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [timezone.make_aware(value, zone) for (value,) in rows]

    def _skip_scan_applies(self, field_name: str, kind: str, order: str) -> bool:
        if connections[self.db].vendor != "postgresql" or not settings.USE_TZ:
            return False
        if kind not in _PERIODS or order != "ASC" or "__" in field_name:
            return False
        query = self.query
        if query.is_sliced or query.distinct or query.combinator or query.group_by is not None:
            return False
        try:
            field = self.model._meta.get_field(field_name)
        except Exception:
            return False
        return isinstance(field, DateTimeField)


def _zone_name(zone: Any) -> str | None:
    """The name PostgreSQL knows the zone by: an IANA zone's key, or UTC; None for a fixed offset
    (whose POSIX spelling reverses its sign; Django's own query handles those)."""
    if zone is datetime.UTC:
        return "UTC"
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else None


@functools.cache
def _skip_scan_class(queryset_class: type[QuerySet[Any]]) -> type[QuerySet[Any]]:
    if issubclass(queryset_class, SkipScanDatesQuerySet):
        return queryset_class
    return type(f"SkipScanDates{queryset_class.__name__}", (SkipScanDatesQuerySet, queryset_class), {})


def with_skip_scan_dates(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The same rows (same query, database and hints), as a queryset whose ``datetimes()`` skips."""
    source: Any = queryset  # the private parts a clone carries over (QuerySet._clone reads the same)
    klass = _skip_scan_class(type(queryset))
    clone: Any = klass(model=source.model, query=source.query.chain(), using=source._db, hints=source._hints)
    clone._prefetch_related_lookups = source._prefetch_related_lookups
    return clone


class CappedChangeList(ChangeList):
    """A changelist that shows a page, never "all", of a list whose count was capped (``?all=``, or a
    limit under ``list_per_page``): its rows were not counted, so they may be any number."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        if getattr(self.paginator, "capped", False):
            self.can_show_all = False
            self.multi_page = True
            # result_list is still an unevaluated queryset: nothing was read yet.
            self.result_list = self.paginator.get_page(self.page_num).object_list


class LargeTableAdminMixin:
    """For a ModelAdmin of a table that grows without bound: a capped count, skip-scan dates, and no
    second ``COUNT(*)`` of the unfiltered table (``show_full_result_count``)."""

    paginator: type[Paginator] = CappedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CappedChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_skip_scan_dates(super().get_queryset(request))  # type: ignore[misc]
