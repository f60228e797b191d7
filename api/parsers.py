"""The API's JSON parser: DRF's, but a body nested deeper than Python can decode (thousands
of ``[``) is a 400 problem like any other broken JSON, not a ``RecursionError`` (a 500)."""

from rest_framework import exceptions, parsers

NESTED_TOO_DEEP = "The body is not valid JSON (nested too deep)."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(NESTED_TOO_DEEP) from None
        except exceptions.ParseError as error:
            # DRF's "JSON parse error - …", in the API's words (and its problem type).
            reason = str(error.detail).removeprefix("JSON parse error - ")
            raise exceptions.ParseError(f"The body is not valid JSON: {reason}.") from None
