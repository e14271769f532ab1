"""Events on a bus: checked against their contracts and delivered to rule targets."""
