"""A local stand-in for the Vibes Platform API, for development, tests and benchmarks.

``SandboxServer`` answers Vibes' paths with Vibes' bodies and statuses from its own state,
texts a simulated phone, and delivers callbacks; ``SandboxControl`` steers it.
"""
