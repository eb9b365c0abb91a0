"""The web app: a Vietnamese-first page over the gateway's own API, served from the package."""
