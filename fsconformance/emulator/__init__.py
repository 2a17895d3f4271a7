"""Serves the model over moto: request routing, wire formats and the transports."""
