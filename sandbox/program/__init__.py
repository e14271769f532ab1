"""The Pulumi program, evaluated under the mock engine and created on moto."""
