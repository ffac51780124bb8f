"""Probe every admin URL, action, autocomplete and dropdown, and every API route, as one tenant on another's objects.

Nothing here lists our admins or routes: they are read from the admin site's
registry (``site._registry``, each model admin's ``get_urls()`` and
``get_actions()``) and from the DRF router (``router.registry`` and
``router.get_routes()``), so a model admin or a route added tomorrow is probed
without anyone adding a line. The objects of the other tenant are built for
every model of the app from its fields (:func:`build_foreign_objects`).

Each probe returns findings (strings naming the URL and what leaked); an
empty list means the boundary held.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.contrib.admin import AdminSite
from django.contrib.admin.filters import RelatedFieldListFilter
from django.core import serializers
from django.db import models
from django.forms import ModelChoiceField
from django.urls import URLPattern, reverse
from django.utils import timezone

from django_sinch_whatsapp.admin.scoping import tenant_lookup_for
from django_sinch_whatsapp.models import Bot

APP_LABEL = "sinch_whatsapp"
_counter = itertools.count(1)

Objects = dict[type[models.Model], list[models.Model]]


# -- the other tenant's objects, for every model of the app ------------------------------------------


def _value_for(field: models.Field, bot: Bot, made: Objects) -> Any:
    if isinstance(field, models.ForeignKey):
        return build_object(field.remote_field.model, bot, made)
    if field.choices:
        return field.choices[0][0]
    n = next(_counter)
    if isinstance(field, (models.CharField, models.TextField)):
        if "number" in field.name or field.name in ("recipient", "from_e164", "to"):
            return f"+4673200{n:04d}"
        return f"probe-{n}"[: getattr(field, "max_length", None) or 50]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.IntegerField, models.FloatField, models.DecimalField)):
        return n
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, (models.BinaryField,)):
        return b"probe"
    raise TypeError(f"tenant_probe cannot fill {field.model.__name__}.{field.name} ({type(field).__name__})")


def build_object(model: type[models.Model], bot: Bot, made: Objects) -> models.Model:
    """One row of ``model`` owned by ``bot``'s tenant, with every required field filled and the relations set."""
    if model is Bot:
        return bot
    if made.get(model):
        return made[model][0]
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        # A relation can be the primary key (a one-row-per-bot table): it is filled like any relation.
        if (
            (field.primary_key and not isinstance(field, models.ForeignKey))
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
        ):
            continue
        related = isinstance(field, models.ForeignKey)
        owned = related and _tenant_owned(field.remote_field.model)
        if related and field.remote_field.model is model:
            continue
        optional = field.has_default() or field.null or (field.blank and not related)
        if optional and not owned:  # optional relations to tenant-owned rows are set, so their links are probed too
            continue
        values[field.name] = _value_for(field, bot, made)
    obj = model._default_manager.create(**values)
    made.setdefault(model, []).append(obj)
    return obj


def _tenant_owned(model: type[models.Model]) -> bool:
    return model._meta.app_label == APP_LABEL


def build_foreign_objects(bot: Bot) -> Objects:
    """One object of every concrete model of the app, owned by ``bot``'s tenant."""
    made: Objects = {Bot: [bot]}
    for model in apps.get_app_config(APP_LABEL).get_models():
        if not model._meta.abstract and not model._meta.proxy:
            build_object(model, bot, made)
    return made


def snapshot(tenant_id: Any) -> str:
    """Every row the tenant owns, serialized: an action or a write on them changes it."""
    parts = []
    for model in apps.get_app_config(APP_LABEL).get_models():
        queryset = model._default_manager.filter(**{tenant_lookup_for(model): tenant_id}).order_by("pk")
        parts.append(serializers.serialize("json", queryset))
    return "\n".join(parts)


def foreign_pks(foreign: Objects, model: type[models.Model]) -> set[Any]:
    pks = {obj.pk for obj in foreign.get(model, [])}
    if model is Bot._meta.get_field("tenant").remote_field.model:
        pks.add(foreign[Bot][0].tenant_id)
    return pks


# -- the admin ------------------------------------------------------------------------------------------


def _our_admins(site: AdminSite) -> Iterable[tuple[type[models.Model], Any]]:
    return [(model, admin) for model, admin in site._registry.items() if model._meta.app_label == APP_LABEL]


def _choice_leaks(form: Any, foreign: Objects, where: str) -> list[str]:
    findings = []
    for name, field in form.fields.items():
        if isinstance(field, ModelChoiceField):
            leaked = field.queryset.filter(pk__in=foreign_pks(foreign, field.queryset.model))
            if leaked.exists():
                findings.append(f"{where}: dropdown {name!r} offers {list(leaked)}")
    return findings


def admin_findings(
    client: Any, user: Any, site: AdminSite, foreign: Objects, *, unchanged: Callable[[], list[str]]
) -> list[str]:
    """Every URL, action, list filter, dropdown and autocomplete of ``site``'s admins of the app, as ``client``.

    Reads go first for every admin, then writes (POSTs and actions), the bots'
    last: an unscoped delete would otherwise hide the leaks of what it cascaded.
    """
    findings: list[str] = []
    admins = list(_our_admins(site))
    if not admins:
        return ["no model admin of the app is registered on this site"]
    writes: list[tuple[type[models.Model], Any, list[str]]] = []
    for model, model_admin in admins:
        mine = foreign.get(model)
        if not mine:
            findings.append(f"{model.__name__}: no object of the other tenant to probe with")
            continue
        pks = {obj.pk for obj in mine}
        detail_urls: list[str] = []
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue  # the unnamed "<id>/" redirect to the change page
            kwargs = set(getattr(pattern.pattern, "converters", {}))
            url_name = f"{site.name}:{pattern.name}"
            if not kwargs:
                url = reverse(url_name)
                response = client.get(url)
                if pattern.name.endswith("_changelist"):
                    findings += _changelist_leaks(response, url, pks, foreign, mine)
                    for obj in mine:
                        filtered = client.get(url, {"id__exact": obj.pk})
                        findings += _changelist_leaks(filtered, f"{url}?id__exact={obj.pk}", pks, foreign, mine)
                elif response.status_code == 200 and response.context and "adminform" in response.context:
                    findings += _choice_leaks(response.context["adminform"].form, foreign, url)
                elif response.status_code not in (200, 302, 403):
                    findings.append(f"{url}: answered {response.status_code}")
                continue
            if kwargs != {"object_id"}:
                findings.append(f"{url_name}: URL arguments {sorted(kwargs)} the probe does not know")
                continue
            for obj in mine:
                url = reverse(url_name, kwargs={"object_id": obj.pk})
                detail_urls.append(url)
                response = client.get(url)
                if response.status_code not in (403, 404):
                    findings.append(f"GET {url}: answered {response.status_code}, not 404")
        findings += _autocomplete_leaks(client, site, model, foreign)
        writes.append((model, model_admin, detail_urls))
    for model, model_admin, detail_urls in sorted(writes, key=lambda item: item[0] is Bot):
        mine = foreign[model]
        for url in detail_urls:
            response = client.post(url, {"post": "yes", "name": "moved"})
            if response.status_code not in (403, 404):
                findings.append(f"POST {url}: answered {response.status_code}, not 404")
        findings += _action_leaks(client, user, site, model, model_admin, mine, unchanged)
    findings += unchanged()
    return findings


def _changelist_leaks(response: Any, url: str, pks: set[Any], foreign: Objects, mine: list[Any]) -> list[str]:
    if response.status_code == 302 and "?e=1" in response.get("Location", ""):
        return []  # Django refused the lookup itself
    if response.status_code != 200 or not response.context or "cl" not in response.context:
        return [f"{url}: answered {response.status_code}, expected the changelist"]
    findings = []
    cl = response.context["cl"]
    shown = set(cl.queryset.values_list("pk", flat=True))
    if shown & pks:
        findings.append(f"{url}: lists the other tenant's {sorted(shown & pks)}")
    for spec in cl.filter_specs:
        if isinstance(spec, RelatedFieldListFilter):
            offered = {str(pk) for pk, _ in spec.lookup_choices}
            leaked = offered & {str(pk) for pk in foreign_pks(foreign, spec.field.related_model)}
            if leaked:
                findings.append(f"{url}: list filter {spec.field_path!r} offers the other tenant's {sorted(leaked)}")
    html = response.content.decode()
    for obj in mine:
        change = f"/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"
        if change in html:
            findings.append(f"{url}: links to {change}")
    return findings


def _action_leaks(
    client: Any,
    user: Any,
    site: AdminSite,
    model: type[models.Model],
    model_admin: Any,
    mine: list[Any],
    unchanged: Callable[[], list[str]],
) -> list[str]:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    findings = []
    url = reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for name in model_admin.get_actions(request):
        response = client.post(
            url, {"action": name, "_selected_action": [obj.pk for obj in mine], "index": 0, "post": "yes"}
        )
        if response.status_code >= 500:
            findings.append(f"action {model.__name__}.{name}: answered {response.status_code}")
        findings += [f"action {model.__name__}.{name}: {change}" for change in unchanged()]
    return findings


def _autocomplete_leaks(client: Any, site: AdminSite, model: type[models.Model], foreign: Objects) -> list[str]:
    findings = []
    for field in model._meta.get_fields():
        if not (getattr(field, "many_to_one", False) and field.related_model in site._registry):
            continue
        url = reverse(f"{site.name}:autocomplete")
        params = {"term": "", "app_label": model._meta.app_label, "model_name": model._meta.model_name}
        response = client.get(url, {**params, "field_name": field.name})
        if response.status_code != 200:
            continue  # 403: the related admin has no search or the user no view permission
        ids = {str(item["id"]) for item in response.json()["results"]}
        leaked = ids & {str(pk) for pk in foreign_pks(foreign, field.related_model)}
        if leaked:
            findings.append(f"autocomplete {model.__name__}.{field.name}: offers the other tenant's {sorted(leaked)}")
    return findings


# -- the API --------------------------------------------------------------------------------------------


def _ids_in(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "id" in value:
            found.add(str(value["id"]))
        for item in value.values():
            found |= _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids_in(item)
    return found


def api_findings(
    api: Any, router: Any, namespace: str, foreign: Objects, *, unchanged: Callable[[], list[str]]
) -> list[str]:
    """Every route of ``router`` (list, detail and extra actions, every method) as ``api``, on the other tenant."""
    findings: list[str] = []
    bot = foreign[Bot][0]
    for prefix, viewset, basename in router.registry:
        model = viewset.serializer_class.Meta.model
        mine = foreign.get(model, [])
        pks = {str(obj.pk) for obj in mine}
        if not mine:
            findings.append(f"{prefix}: no object of the other tenant to probe with")
            continue
        for route in router.get_routes(viewset):
            methods = {m: a for m, a in route.mapping.items() if hasattr(viewset, a)}
            if not methods:
                continue
            name = f"{namespace}:{route.name.format(basename=basename)}"
            targets = [reverse(name, kwargs={"pk": obj.pk}) for obj in mine] if route.detail else [reverse(name)]
            for url in targets:
                for method, action in methods.items():
                    if route.detail:
                        response = getattr(api, method)(url, {}, format="json")
                        if response.status_code not in (403, 404):
                            findings.append(f"{method.upper()} {url} ({action}): answered {response.status_code}")
                        continue
                    if method == "get":
                        for query in ({}, {"bot": bot.pk}):
                            response = api.get(url, query)
                            leaked = _ids_in(response.json()) & pks if response.status_code == 200 else set()
                            if leaked:
                                findings.append(f"GET {url}?{query}: shows the other tenant's {sorted(leaked)}")
                    else:
                        body = {"tenant": bot.tenant_id, "bot": bot.pk, "name": "probe", "sinch_bot_id": "probe"}
                        response = api.post(url, {**body, "bearer_token": "probe"}, format="json")
                        if response.status_code < 300:
                            findings.append(f"POST {url} ({action}) for the other tenant: {response.status_code}")
            findings += [f"{name}: {change}" for change in unchanged()]
    return findings
