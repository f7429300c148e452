"""In-memory fakes of the repositories and gateways the money and fleet services use.

One module per port; every fake keeps its items in one shared `FakeTable` (keyed like the real
items) and refuses what DynamoDB's conditions would refuse, raising what the real adapter raises.
`tests/service` builds the services on them; no fake ever opens a connection."""
