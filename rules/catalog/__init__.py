"""What the pack holds: the registry of rules (registry) with the schema that validates every
record (registry.schema.json), the managed rules and process checks that complete the pack
(pack_entries), and the compliance framework mappings and control catalogs (compliance/).

Deliberately empty: import the module you need, so no package import pulls in the others.
"""
