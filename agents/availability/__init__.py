"""Availability: whether an agent can take work now, beside their presence — working hours
and holidays (``hours``), out of office with a cover, capacity (``models``). The rules, in the
order they apply, are ``rules.availability_of``; docs/availability.md explains them."""
