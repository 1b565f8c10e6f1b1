import adamproofs_no_such_module  # noqa: F401
