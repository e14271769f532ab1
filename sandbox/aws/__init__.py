"""The AWS endpoint: moto, and where its answers are made AWS's."""
