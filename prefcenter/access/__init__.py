"""Access to a person's data: the export a data subject may ask for, the consent evidence
a lawyer asks for, and the retention that keeps neither longer than it should."""
