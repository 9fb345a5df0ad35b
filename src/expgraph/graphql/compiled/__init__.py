"""The read-query compiler: a query's root field answered by ONE SQL statement
that builds its JSON value in the database, spliced into the response without
being parsed in Python.

- ``plan``: which root fields of a document compile (decided once per document
  and operation, from the document and the schema only, and cached);
- ``compiler``: a compilable root field and the request's variables -> one
  statement returning one row with one text column, the field's JSON value
  exactly as the executor would serialize it (dialect differences in
  ``db/jsonsql.py``);
- ``execution``: the execution context that runs compiled root fields and hands
  every other root field to the executor, keeping the response's key order;
- ``answers``: a POST that repeats a request compiled whole (same document,
  operation, variables and caller) answered by its statements alone, before
  strawberry parses, validates or executes anything.

What it covers (anything else takes the executor): ``node(id:)`` and top-level
connections made by ``connections.paged`` (filter, orderBy on columns and on
computed integer/boolean keys, first/after/last/before, totalCount,
edges/cursor/node, pageInfo); under a node ``__typename``, ``id``, plain column
fields (String, Int, Boolean, DateTime, BigInt, JSON, enums, Float on doubles),
fragments and aliases, ``node_field`` relationships (``RowsById``, and
``FirstChild``: a to-one link held on the child's side), ``connection_field``
connections (their arguments, totalCount, pageInfo, cursors), ``list_field``
lists over ``ChildLists`` (in an order unique per parent, of one node type the
caller may read whole), ``derived_field``s
declared with an SQL rule (``prefetch.SqlRule``) and plain fields computed
from the record's columns declared with ``prefetch.computed``. Fields are known
by the declarations the kernel's helpers attach (``prefetch.declaration``).
Read rules apply in SQL to every node reached. On SQLite a statement holds at
most three levels of pages and lists (its parser's stack: ``JsonSQL.MAX_NESTED``).
Not covered: Decimal fields, recursive ancestors/descendants, lists of enums,
mutation payloads, subscriptions, documents with directives.
"""
