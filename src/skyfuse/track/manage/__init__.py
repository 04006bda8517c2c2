"""Track management: initiation, confirmation, coasting and deletion."""
