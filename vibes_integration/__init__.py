"""Everything that talks to Vibes: the typed API client (``client``, ``errors``, ``conf``),
the callbacks Vibes sends us (``callbacks``), the outbound sync of CRM changes
(``sync``), the catalogue of lists and campaigns (``catalogue``), and a local stand-in
for Vibes (``sandbox``)."""
