"""marshmallow schemas that load and dump in fewer steps, with marshmallow's results.

`RequestSchema` (the base of `shared.web.StrictSchema`, so of every request body and query, and
of `shared.events.catalogue.EventData`, so of every event's data):
`Schema.load` reaches each field through a closure, `_call_and_store` and `set_value` made or
called per field per load; a `RequestSchema` loads a mapping by calling each field's own
`deserialize` directly, with the field names and keys worked out once per schema. Errors are
stored as marshmallow stores them (`error.valid_data` kept), unknown fields are refused or kept
as the schema says, and every validator (field and schema) runs as before: only the loop
between them is shorter. A collection (`many`), a `partial` load and anything that is not a
mapping take marshmallow's own path.

`AnswerSchema` (answers' schemas that ask for it): `Schema.dump` reaches each field's value
through four calls (the field's `serialize`, its `get_value`, the schema's `get_attribute`,
`marshmallow.utils.get_value`) before the field formats it; for an answer of thirty fields that
is most of the dump's cost. An `AnswerSchema` dumps a plain `dict` by reading each value from it
directly and handing it to the same field's formatting (`_serialize`), so the output is
`Schema.dump`'s: the same keys (`data_key`), the same `dump_default` for a missing value, the
same formats, nested schemas as they dump. A key a dict lacks is looked up as an attribute, as
marshmallow does (a plain dict has only its methods).

Where the shortcut would not be the same, `dump` is marshmallow's: a schema with `pre_dump` or
`post_dump` hooks, an ordered one, a field that reads its value its own way (`Method`,
`Function`, a dotted `attribute`, an overridden `serialize` or `get_value`), and any object
that is not a `dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, missing
from marshmallow.error_store import ErrorStore
from marshmallow.fields import Field
from marshmallow.schema import POST_DUMP, PRE_DUMP
from marshmallow.utils import set_value

# (field, name in the data, key in the result)
_Load = tuple[Field, str, str]

# (field name, attribute read, key written, field, whether a plain dict has such an attribute)
_Step = tuple[str, str, str, Field, bool]


class RequestSchema(Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loads: list[_Load] = []
        for name, field in self.load_fields.items():
            data_key = field.data_key if field.data_key is not None else name
            self._loads.append((field, data_key, field.attribute or name))
        self._known = frozenset(data_key for _, data_key, _ in self._loads)

    def _deserialize(  # type: ignore[override]
        self,
        data: Any,
        *,
        error_store: ErrorStore,
        many: bool = False,
        partial: Any = None,
        unknown: str = RAISE,
        index: int | None = None,
    ) -> Any:
        if many or partial is not None or not isinstance(data, Mapping):
            return super()._deserialize(
                data,
                error_store=error_store,
                many=many,
                partial=partial,
                unknown=unknown,  # type: ignore[arg-type]
                index=index,
            )
        index = index if self.opts.index_errors else None
        loaded = self.dict_class()
        for field, data_key, key in self._loads:
            try:
                value = field.deserialize(data.get(data_key, missing), data_key, data)
            except ValidationError as error:
                error_store.store_error(error.messages, data_key, index=index)
                value = error.valid_data or missing
            if value is not missing:
                if "." in key:
                    set_value(loaded, key, value)
                else:
                    loaded[key] = value
        if unknown != EXCLUDE:
            for data_key in set(data) - self._known:
                if unknown == INCLUDE:
                    loaded[data_key] = data[data_key]
                elif unknown == RAISE:
                    error_store.store_error([self.error_messages["unknown"]], data_key, index)
        return loaded


class AnswerSchema(Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._steps = self._plan()

    def _plan(self) -> list[_Step] | None:
        if self._hooks[PRE_DUMP] or self._hooks[POST_DUMP] or self.dict_class is not dict:
            return None
        own = type(self)
        if own.get_attribute is not Schema.get_attribute or own._serialize is not Schema._serialize:
            return None
        steps: list[_Step] = []
        for name, field in self.dump_fields.items():
            kind = type(field)
            source = field.attribute if field.attribute is not None else name
            if (
                not field._CHECK_ATTRIBUTE
                or kind.serialize is not Field.serialize
                or kind.get_value is not Field.get_value
                or "." in source
            ):
                return None
            key = field.data_key if field.data_key is not None else name
            steps.append((name, source, key, field, hasattr(dict, source)))
        return steps

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        steps = self._steps
        many = self.many if many is None else bool(many)
        if steps is not None:
            if not many and type(obj) is dict:
                return self._dump_one(obj, steps)
            if many and type(obj) is list and all(type(item) is dict for item in obj):
                return [self._dump_one(item, steps) for item in obj]
        return super().dump(obj, many=many)

    @staticmethod
    def _dump_one(obj: dict[str, Any], steps: list[_Step]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, source, key, field, dict_attribute in steps:
            value = obj.get(source, missing)
            if value is missing and dict_attribute and source not in obj:
                value = getattr(obj, source)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = field._serialize(value, name, obj)
        return out
