"""Microsoft Teams adapter: everything botbuilder lives here and nowhere else."""
