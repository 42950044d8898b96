"""Pure rules of invite credits: no I/O, time passed in."""
