"""The Django web app: pages, forms and the API over the core."""
