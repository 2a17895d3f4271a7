"""How requests reach the emulation: in-process (moto's stubber) and over HTTP (WSGI)."""
