"""The Ray jobs. Only this subpackage imports ray."""
