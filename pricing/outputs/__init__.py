"""What the merchandiser hands on: the platform's upload sheet and the HTML report."""
