"""The local REST API, served as API Gateway serves it."""
