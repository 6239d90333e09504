from . import test_alias_rule
