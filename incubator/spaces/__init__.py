"""Building, floors, zones, desks, requests, leases and floor plans."""
