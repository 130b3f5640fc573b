"""The ``xciss`` command: runs, sets up and operates the platform. It sits
above the services (it may import any of them; none imports it) and the
runtime."""
