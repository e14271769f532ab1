"""`make cost`: what one order consumes in the sandbox, priced at AWS list prices and reported."""
