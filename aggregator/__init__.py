"""aggregator: a multilingual (English, Tamil, Sinhala) feed aggregator and digest site builder.

The stages live in their own modules and only ``pipeline`` knows their order;
see README.md for the commands and GUIDE-style architecture notes.
"""

__version__ = "0.1.0"
