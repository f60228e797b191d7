"""The desk where people work: the pages and admin screens that compose several apps.

The Lead Center (contacts, routing's offers and rounds), the workload page (contacts, campaign
queues, leads), a center's dashboard (members and their load), the Agent admin (centers, leads,
handover) and the Contact admin (ownership, routing's re-assignment and deletion). It sits
above every domain app, as Saleor's GraphQL layer sits above its domain apps: it may import any
of them, and none of them imports it. It has no models."""
