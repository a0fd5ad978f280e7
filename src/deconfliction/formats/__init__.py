"""File formats people already use, read and written from plain values: the CSV of protected sites in,
KML out. Pure functions over text: the CLI and the API do the reading, writing and storing."""
