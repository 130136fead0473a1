"""Tests of reading OVMS workspaces: config files, entries, versions and their on-disk trees."""

import pytest

# The entry-level check of the malformed-workspace tables lives in this helper module; pytest
# explains its failed asserts (values, diffs) only when told so before the module is imported.
pytest.register_assert_rewrite("tests.workspace.malformed")
