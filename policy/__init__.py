"""eda-demo's policy pack (Pulumi CrossGuard): the production defaults, enforced on every stack."""
