"""Request and response shapes of the API, one module per resource. Requests are checked
for shape here; every domain rule (ids, duplicates, existing rows) is checked by the
service the view calls."""
