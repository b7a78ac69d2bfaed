"""`AnswerSchema`: a marshmallow schema for answers, dumped in fewer steps.

`Schema.dump` reaches each field's value through four calls (the field's `serialize`, its
`get_value`, the schema's `get_attribute`, `marshmallow.utils.get_value`) before the field
formats it; for an answer of thirty fields that is most of the dump's cost. An `AnswerSchema`
dumps a plain `dict` by reading each value from it directly and handing it to the same field's
formatting (`_serialize`), so the output is `Schema.dump`'s: the same keys (`data_key`), the same
`dump_default` for a missing value, the same formats, nested schemas as they dump. A key a dict
lacks is looked up as an attribute, as marshmallow does (a plain dict has only its methods).

Where the shortcut would not be the same, `dump` is marshmallow's: a schema with `pre_dump` or
`post_dump` hooks, an ordered one, a field that reads its value its own way (`Method`,
`Function`, a dotted `attribute`, an overridden `serialize` or `get_value`), and any object
that is not a `dict`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, missing
from marshmallow.fields import Field
from marshmallow.schema import POST_DUMP, PRE_DUMP

# (field name, attribute read, key written, field, whether a plain dict has such an attribute)
_Step = tuple[str, str, str, Field, bool]


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
