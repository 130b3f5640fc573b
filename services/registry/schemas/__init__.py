"""What the registry's use cases return: the msgspec structs its API answers
with, one module per topic, each record built from its table row by one
function beside the use case (issue 18). Request bodies stay beside their
routes (``services/registry/api``); events stay in ``contracts/``."""
