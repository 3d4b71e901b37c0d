"""Sample data: `parlour demo`'s small hand-made inbox and `parlour seed`'s large synthetic one."""
