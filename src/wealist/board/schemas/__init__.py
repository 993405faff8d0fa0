"""Wire structs of the board service, one module per resource (request and reply bodies).

Request bodies stay lenient about unknown fields: the original frontend sends extra keys.
"""
