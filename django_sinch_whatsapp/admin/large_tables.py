"""Changelists of tables that grow without bound (messages, callbacks, contacts) at a cost that does not.

Django's changelist reads the whole (filtered) table twice per page: the
paginator's ``COUNT(*)``, and the date hierarchy's ``SELECT DISTINCT
date_trunc(...)`` (every row read and sorted to find the years, months or days
that hold any). At 100,000 messages those two were most of the page's time and
they grow with every campaign (bench/RESULTS.md, "Session 7").

- :class:`CappedCountPaginator` counts at most :attr:`~CappedCountPaginator.limit`
  rows; past it the page says there are more (under Django's own pagination)
  and offers that many pages, the newest first: filters, search and the dates
  narrow the list to the rest.
- :func:`with_skip_scan_dates` gives a queryset whose ``datetimes()`` (what the
  date hierarchy calls) finds each year, month or day that holds a row with one
  index lookup per period, on PostgreSQL: one recursive query, the periods as
  Django would list them, for the unfiltered list and its date drill-down.
  Elsewhere, and for what it does not cover, Django's own.
"""

from __future__ import annotations

import datetime
import functools
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import DateTimeField, F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

if TYPE_CHECKING:
    from django.template.response import _TemplateForResponseT

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
    """``datetimes()`` by one index lookup per period found (a "loose index scan"), on PostgreSQL.

    Where it pays and is exact: an indexed ``DateTimeField``, periods of a year,
    month or day in a named time zone, and no filter but on that field (the
    date hierarchy's own drill-down). A filter on anything else (a list filter,
    a search, a tenant's scope) could make each lookup walk the index past many
    rows that do not match; Django's query reads only the rows that do. Returns
    a list, as the date hierarchy uses it (Django's returns a queryset).
    """

    def datetimes(self, field_name: str, kind: Any, order: Any = "ASC", tzinfo: Any = None) -> Any:
        zone = tzinfo or timezone.get_current_timezone()
        zone_name = _zone_name(zone)
        if zone_name is None or not self._skip_scan_applies(field_name, kind, order):
            return super().datetimes(field_name, kind, order, tzinfo)
        inner = self.order_by().annotate(hierarchy_value=F(field_name)).values_list("hierarchy_value")
        inner = inner.filter(hierarchy_value__isnull=False)
        try:
            inner_sql, inner_params = inner.query.get_compiler(using=self.db).as_sql()
        except EmptyResultSet:  # e.g. a staff user of no tenant: no rows, no periods
            return []
        # The inner query is Django's own, compiled; everything else is bound. The next period starts
        # at local midnight (or the 1st, or January 1st); where that local time happens twice (clocks
        # going back at midnight), PostgreSQL reads the later instant, so the lookup starts at the
        # earliest of the instants an hour or two before, and skips rows of the period it is leaving.
        sql = (
            "WITH RECURSIVE c(k, z, step) AS (SELECT %s::text, %s::text, %s::interval), "  # noqa: S608
            "hierarchy(v) AS ("
            f"(SELECT x.hierarchy_value FROM ({inner_sql}) AS x ORDER BY 1 LIMIT 1) "
            "UNION ALL "
            f"SELECT (SELECT x.hierarchy_value FROM ({inner_sql}) AS x "
            "WHERE x.hierarchy_value >= LEAST(n.at AT TIME ZONE c.z, "
            "(n.at - interval '1 hour') AT TIME ZONE c.z + interval '1 hour', "
            "(n.at - interval '2 hours') AT TIME ZONE c.z + interval '2 hours') "
            "AND date_trunc(c.k, x.hierarchy_value AT TIME ZONE c.z) > n.period "
            "ORDER BY 1 LIMIT 1) "
            "FROM hierarchy AS h CROSS JOIN c CROSS JOIN LATERAL (SELECT date_trunc(c.k, h.v AT TIME ZONE c.z) "
            "AS period, date_trunc(c.k, h.v AT TIME ZONE c.z) + c.step AS at) AS n WHERE h.v IS NOT NULL"
            ") SELECT date_trunc(c.k, h.v AT TIME ZONE c.z) FROM hierarchy AS h CROSS JOIN c WHERE h.v IS NOT NULL"
        )
        params = [kind, zone_name, _PERIODS[kind], *inner_params, *inner_params]
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
        except FieldDoesNotExist:
            return False
        return isinstance(field, DateTimeField) and _indexed(field) and _filters_only_on(query.where, field)


def _indexed(field: Any) -> bool:
    """An index leads with the field: each lookup is one index probe."""
    meta = field.model._meta
    if field.db_index or field.unique:
        return True
    leading = [index.fields[0].lstrip("-") for index in meta.indexes if index.fields]
    leading += [c.fields[0] for c in meta.constraints if getattr(c, "fields", None)]
    return field.name in leading


def _filters_only_on(node: Any, field: Any) -> bool:
    """Every condition of the WHERE tree is on ``field`` (of this model's table), transforms allowed."""
    from django.db.models.expressions import Col
    from django.db.models.lookups import Lookup, Transform

    for child in node.children:
        if isinstance(child, Lookup):
            lhs = child.lhs
            while isinstance(lhs, Transform):
                lhs = lhs.lhs
            if not (isinstance(lhs, Col) and lhs.target is field and lhs.alias == field.model._meta.db_table):
                return False
        elif hasattr(child, "children"):
            if not _filters_only_on(child, field):
                return False
        else:
            return False
    return True


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
    change_list_template: ClassVar[_TemplateForResponseT | None] = "admin/django_sinch_whatsapp/large_change_list.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CappedChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_skip_scan_dates(super().get_queryset(request))  # type: ignore[misc]
